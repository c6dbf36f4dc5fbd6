"""The demo book: believable people, teams and clients, created idempotently.

`manage.py seed_demo` calls `seed()`. Every row is looked up by a natural key before it is
created, so running it twice changes nothing. Later apps add their sections here.

The book: two teams, eight client groups (four of them international, with subsidiaries in
Germany, France, Austria, Spain and Croatia), sites across Italian regions and abroad, an org
chart of contacts at every company, account teams with every role, recent activities with next
steps, and this year's account plans. Everything is derived from the tables below, with no
randomness, so every run and every machine gets the same book.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from stdnum import luhn

from accounts_crm.access import Role, ensure_role_groups

DEMO_PASSWORD = "demo-crm-2026"  # noqa: S105 - printed by the run command on purpose


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    what: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("giulia.nam", "Giulia", "Romano", (Role.ACCOUNT_STAFF,), "national account manager"),
    DemoUser("marco.nam", "Marco", "Ferrari", (Role.ACCOUNT_STAFF,), "national account manager"),
    DemoUser("luca.pm", "Luca", "Esposito", (Role.ACCOUNT_STAFF,), "project manager"),
    DemoUser("sara.cs", "Sara", "Colombo", (Role.ACCOUNT_STAFF,), "customer service"),
    DemoUser("elena.lead", "Elena", "Ricci", (Role.TEAM_LEAD,), "team lead, North"),
    DemoUser("paolo.lead", "Paolo", "Bruno", (Role.TEAM_LEAD,), "team lead, Centre-South"),
    DemoUser("anna.finance", "Anna", "Gallo", (Role.FINANCE,), "finance"),
    DemoUser("admin", "Franco", "Conti", (Role.ADMIN,), "administrator"),
    DemoUser("davide.sales", "Davide", "Mancini", (Role.ACCOUNT_STAFF,), "sales, North"),
    DemoUser("chiara.sales", "Chiara", "Costa", (Role.ACCOUNT_STAFF,), "sales, Centre-South"),
    DemoUser("marta.cs", "Marta", "Giordano", (Role.ACCOUNT_STAFF,), "customer service, C-S"),
)


def partita_iva(base: int, office: int) -> str:
    """A valid Italian VAT number: 7 digits, the tax office code (001-100), the Luhn digit."""
    number = f"{base:07d}{office:03d}"
    return number + luhn.calc_check_digit(number)


NORTH, SOUTH = "Key Account Nord", "Key Account Centro-Sud"

# Teams: name -> (lead, members).
DEMO_TEAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    NORTH: ("elena.lead", ("giulia.nam", "luca.pm", "sara.cs", "davide.sales")),
    SOUTH: ("paolo.lead", ("marco.nam", "luca.pm", "chiara.sales", "marta.cs")),
}

# Who plays which role on the accounts of each team.
TEAM_STAFF: dict[str, dict[str, str]] = {
    NORTH: {
        "nam": "giulia.nam",
        "sales": "davide.sales",
        "project_manager": "luca.pm",
        "customer_service": "sara.cs",
        "executive_sponsor": "elena.lead",
    },
    SOUTH: {
        "nam": "marco.nam",
        "sales": "chiara.sales",
        "project_manager": "luca.pm",
        "customer_service": "marta.cs",
        "executive_sponsor": "paolo.lead",
    },
}


@dataclass(frozen=True)
class DemoClient:
    name: str
    legal_name: str
    vat_number: str
    team: str
    industry: str
    scope: str = "national"
    parent: str | None = None
    nam: str | None = None
    tier: str = "key"
    status: str = "active"
    # Billing address; the headquarters site is at the same address.
    street: str = ""
    postal_code: str = ""
    city: str = ""
    province: str = ""
    region: str = ""
    country: str = "IT"
    # Invoices go through SDI with this recipient code, or to the PEC address with 0000000.
    by_pec: bool = False

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def is_italian(self) -> bool:
        return self.country == "IT"

    @property
    def sdi_code(self) -> str:
        if not self.is_italian:
            return "XXXXXXX"  # FatturaPA's recipient code for foreign clients
        if self.by_pec:
            return "0000000"
        digest = hashlib.sha256(self.name.encode()).hexdigest().upper()
        return digest[:7]

    @property
    def pec(self) -> str:
        return f"amministrazione@pec.{self.slug}.example" if self.is_italian else ""


def _client(
    name: str,
    legal_suffix: str,
    vat: str,
    team: str,
    industry: str,
    address: tuple[str, str, str, str, str, str],
    **extra: object,
) -> DemoClient:
    street, postal_code, city, province, region, country = address
    return DemoClient(
        name=name,
        legal_name=f"{name} {legal_suffix}",
        vat_number=vat,
        team=team,
        industry=industry,
        street=street,
        postal_code=postal_code,
        city=city,
        province=province,
        region=region,
        country=country,
        **extra,  # type: ignore[arg-type]
    )


# Client groups: holdings first, then their subsidiaries. Italian VAT numbers pass python-stdnum's
# checks (tests/accounts_crm/test_demo.py); foreign ones are valid EU VAT numbers, or blank.
DEMO_CLIENTS: tuple[DemoClient, ...] = (
    # Food group, Po valley, with a German sales company.
    _client("Gruppo Alimentare Padano", "S.p.A.", "04123450159", NORTH, "Food & beverage",
            ("Via Emilia Est 120", "43123", "Parma", "PR", "emilia_romagna", "IT"),
            nam="giulia.nam", tier="strategic", scope="international"),
    _client("Padano Distribuzione", "S.r.l.", "02876540580", NORTH, "Food & beverage",
            ("Via Enrico Mattei 15", "26100", "Cremona", "CR", "lombardia", "IT"),
            parent="Gruppo Alimentare Padano", nam="giulia.nam"),
    _client("Padano Logistica", "S.r.l.", "03987650375", NORTH, "Logistics",
            ("Via dell'Interporto 8", "37135", "Verona", "VR", "veneto", "IT"),
            parent="Gruppo Alimentare Padano", nam="giulia.nam", by_pec=True),
    _client("Caseificio Padano", "S.r.l.", partita_iva(1432101, 35), NORTH, "Food & beverage",
            ("Strada Provinciale 468 n. 4", "42015", "Correggio", "RE", "emilia_romagna", "IT"),
            parent="Gruppo Alimentare Padano", tier="developing"),
    _client("Padano Deutschland", "GmbH", "DE812345673", NORTH, "Food & beverage",
            ("Leopoldstraße 45", "80802", "München", "", "", "DE"),
            parent="Gruppo Alimentare Padano", scope="international", tier="developing"),
    # Machinery, Milan, with service, foundry, automation and a French subsidiary.
    _client("Officine Meccaniche Lombarde", "S.p.A.", "05112230460", NORTH, "Machinery",
            ("Via Stephenson 94", "20157", "Milano", "MI", "lombardia", "IT"),
            scope="international", nam="giulia.nam", tier="strategic"),
    _client("OML Service", "S.r.l.", "06223340016", NORTH, "Machinery",
            ("Corso Francia 210", "10146", "Torino", "TO", "piemonte", "IT"),
            parent="Officine Meccaniche Lombarde"),
    _client("OML Fonderia", "S.r.l.", partita_iva(2218803, 17), NORTH, "Machinery",
            ("Via della Fonderia 3", "25125", "Brescia", "BS", "lombardia", "IT"),
            parent="Officine Meccaniche Lombarde", by_pec=True),
    _client("OML Automazione", "S.r.l.", partita_iva(2218804, 16), NORTH, "Industrial automation",
            ("Via Guglielmo Marconi 12", "24126", "Bergamo", "BG", "lombardia", "IT"),
            parent="Officine Meccaniche Lombarde", tier="developing"),
    _client("OML France", "SAS", "FR44732829320", NORTH, "Machinery",
            ("12 Rue de la République", "69002", "Lyon", "", "", "FR"),
            parent="Officine Meccaniche Lombarde", scope="international"),
    # Textiles, Biella, with a retail arm and an Austrian subsidiary.
    _client("Tessile Biellese Holding", "S.p.A.", partita_iva(3305506, 41), NORTH, "Textiles",
            ("Via Italia 48", "13900", "Biella", "BI", "piemonte", "IT"),
            scope="international", tier="strategic"),
    _client("Lanificio Valsessera", "S.p.A.", partita_iva(3305507, 41), NORTH, "Textiles",
            ("Via Provinciale 21", "13836", "Cossato", "BI", "piemonte", "IT"),
            parent="Tessile Biellese Holding"),
    _client("Tessile Biellese Retail", "S.r.l.", partita_iva(3305508, 15), NORTH, "Retail",
            ("Corso Buenos Aires 33", "20124", "Milano", "MI", "lombardia", "IT"),
            parent="Tessile Biellese Holding", tier="developing"),
    _client("TB Textil Austria", "GmbH", "ATU12345675", NORTH, "Textiles",
            ("Mariahilfer Straße 77", "1060", "Wien", "", "", "AT"),
            parent="Tessile Biellese Holding", scope="international", tier="developing"),
    # Construction, Veneto, across the north-east.
    _client("Veneta Costruzioni", "S.p.A.", partita_iva(4410019, 28), NORTH, "Construction",
            ("Viale della Navigazione Interna 51", "35129", "Padova", "PD", "veneto", "IT"),
            tier="strategic"),
    _client("Veneta Infrastrutture", "S.p.A.", partita_iva(4410020, 26), NORTH, "Construction",
            ("Via Terraglio 140", "31100", "Treviso", "TV", "veneto", "IT"),
            parent="Veneta Costruzioni"),
    _client("Veneta Prefabbricati", "S.r.l.", partita_iva(4410021, 4), NORTH, "Construction",
            ("Via Interna Zona Industriale 12", "33170", "Pordenone", "PN",
             "friuli_venezia_giulia", "IT"),
            parent="Veneta Costruzioni", by_pec=True),
    _client("Veneta Calcestruzzi", "S.r.l.", partita_iva(4410022, 24), NORTH, "Construction",
            ("Strada Pasubio 88", "36100", "Vicenza", "VI", "veneto", "IT"),
            parent="Veneta Costruzioni", tier="developing", status="inactive"),
    _client("Veneta Costruzioni Trentino", "S.r.l.", partita_iva(4410023, 22), NORTH,
            "Construction",
            ("Via Brennero 9", "38121", "Trento", "TN", "trentino_alto_adige", "IT"),
            parent="Veneta Costruzioni", tier="developing", status="prospect"),
    # Retail, Naples, across the south and Spain.
    _client("Mediterranea Retail Holding", "S.p.A.", "07334450637", SOUTH, "Retail",
            ("Via Toledo 156", "80134", "Napoli", "NA", "campania", "IT"),
            scope="international", nam="marco.nam", tier="strategic"),
    _client("Mediterranea Retail Italia", "S.r.l.", "08445560728", SOUTH, "Retail",
            ("Via Casilina 1020", "00169", "Roma", "RM", "lazio", "IT"),
            parent="Mediterranea Retail Holding", nam="marco.nam"),
    _client("Mediterranea Retail España", "S.L.", "ESB12345674", SOUTH, "Retail",
            ("Calle de Alcalá 95", "28009", "Madrid", "", "", "ES"),
            scope="international", parent="Mediterranea Retail Holding", nam="marco.nam"),
    _client("Mediterranea Food Sicilia", "S.r.l.", partita_iva(5520031, 80), SOUTH, "Retail",
            ("Via della Libertà 180", "90143", "Palermo", "PA", "sicilia", "IT"),
            parent="Mediterranea Retail Holding", tier="developing"),
    _client("Mediterranea Logistica Sud", "S.r.l.", partita_iva(5520032, 61), SOUTH, "Logistics",
            ("Zona ASI Lotto 14", "81025", "Marcianise", "CE", "campania", "IT"),
            parent="Mediterranea Retail Holding", by_pec=True),
    # Private healthcare, Rome.
    _client("Sanità Integrata", "S.p.A.", "09556670967", SOUTH, "Healthcare",
            ("Via Tiburtina 720", "00159", "Roma", "RM", "lazio", "IT"),
            nam="marco.nam", tier="strategic"),
    _client("Sanità Integrata Diagnostica", "S.r.l.", partita_iva(6630041, 68), SOUTH,
            "Healthcare", ("Via Nazionale Adriatica Nord 100", "65123", "Pescara", "PE",
                           "abruzzo", "IT"),
            parent="Sanità Integrata"),
    _client("Sanità Integrata Laboratori", "S.r.l.", partita_iva(6630042, 72), SOUTH,
            "Healthcare", ("Viale Japigia 188", "70126", "Bari", "BA", "puglia", "IT"),
            parent="Sanità Integrata"),
    _client("Sanità Integrata Calabria", "S.r.l.", partita_iva(6630043, 78), SOUTH,
            "Healthcare", ("Viale della Repubblica 55", "87100", "Cosenza", "CS",
                           "calabria", "IT"),
            parent="Sanità Integrata", tier="developing", by_pec=True),
    # Energy, Ancona, with a Croatian company (no EU VAT number on file yet).
    _client("Energia Adriatica", "S.p.A.", partita_iva(7740051, 2), SOUTH, "Energy & utilities",
            ("Via Guglielmo Marconi 15", "60125", "Ancona", "AN", "marche", "IT"),
            scope="international", tier="strategic"),
    _client("Energia Adriatica Reti", "S.p.A.", partita_iva(7740052, 9), SOUTH,
            "Energy & utilities", ("Via Po 22", "66100", "Chieti", "CH", "abruzzo", "IT"),
            parent="Energia Adriatica"),
    _client("Energia Adriatica Rinnovabili", "S.r.l.", partita_iva(7740053, 46), SOUTH,
            "Energy & utilities", ("Via Appia 45", "85100", "Potenza", "PZ", "basilicata", "IT"),
            parent="Energia Adriatica"),
    _client("Energia Adriatica Molise", "S.r.l.", partita_iva(7740054, 45), SOUTH,
            "Energy & utilities", ("Corso Vittorio Emanuele II 60", "86100", "Campobasso", "CB",
                                   "molise", "IT"),
            parent="Energia Adriatica", tier="developing"),
    _client("Adriatica Energija", "d.o.o.", "", SOUTH, "Energy & utilities",
            ("Ulica grada Vukovara 269", "10000", "Zagreb", "", "", "HR"),
            parent="Energia Adriatica", scope="international", tier="developing"),
    # Pharmaceuticals, Florence.
    _client("Farmaceutica Tirrenica", "S.p.A.", partita_iva(8850061, 30), SOUTH,
            "Pharmaceuticals", ("Via di Novoli 40", "50127", "Firenze", "FI", "toscana", "IT"),
            tier="strategic"),
    _client("Tirrenica Farma Produzione", "S.p.A.", partita_iva(8850062, 42), SOUTH,
            "Pharmaceuticals", ("Via Federigo Enriques 10", "57121", "Livorno", "LI",
                                "toscana", "IT"),
            parent="Farmaceutica Tirrenica"),
    _client("Tirrenica Farma Distribuzione", "S.r.l.", partita_iva(8850063, 54), SOUTH,
            "Pharmaceuticals", ("Via Flaminia 500", "06034", "Foligno", "PG", "umbria", "IT"),
            parent="Farmaceutica Tirrenica"),
    _client("Tirrenica Farma Sardegna", "S.r.l.", partita_iva(8850064, 92), SOUTH,
            "Pharmaceuticals", ("Viale Monastir 112", "09122", "Cagliari", "CA", "sardegna", "IT"),
            parent="Farmaceutica Tirrenica", tier="developing"),
    _client("Tirrenica Farma Liguria", "S.r.l.", partita_iva(8850065, 10), SOUTH,
            "Pharmaceuticals", ("Via XX Settembre 41", "16121", "Genova", "GE", "liguria", "IT"),
            parent="Farmaceutica Tirrenica", tier="developing", by_pec=True),
)  # fmt: skip

# Sites beyond each company's headquarters (which is at its billing address):
# (client, name, kind, street, postal code, city, province, region, country).
DEMO_SITES: tuple[tuple[str, ...], ...] = (
    ("Gruppo Alimentare Padano", "Stabilimento di Fidenza", "plant",
     "Via Caduti del Lavoro 2", "43036", "Fidenza", "PR", "emilia_romagna", "IT"),
    ("Padano Distribuzione", "Deposito di Lodi", "warehouse",
     "Via dell'Industria 30", "26900", "Lodi", "LO", "lombardia", "IT"),
    ("Padano Distribuzione", "Filiale di Bologna", "branch",
     "Via Stalingrado 80", "40128", "Bologna", "BO", "emilia_romagna", "IT"),
    ("Padano Logistica", "Hub di Piacenza", "warehouse",
     "Strada Caorsana 21", "29122", "Piacenza", "PC", "emilia_romagna", "IT"),
    ("Padano Deutschland", "Lager Augsburg", "warehouse",
     "Haunstetter Straße 112", "86161", "Augsburg", "", "", "DE"),
    ("Officine Meccaniche Lombarde", "Stabilimento di Lecco", "plant",
     "Via Pergola 73", "23900", "Lecco", "LC", "lombardia", "IT"),
    ("Officine Meccaniche Lombarde", "Ufficio di Stoccarda", "office",
     "Königstraße 20", "70173", "Stuttgart", "", "", "DE"),
    ("OML Service", "Centro assistenza di Genova", "branch",
     "Via Pionieri e Aviatori d'Italia 5", "16154", "Genova", "GE", "liguria", "IT"),
    ("OML France", "Atelier de Grenoble", "plant",
     "8 Rue des Arts et Métiers", "38000", "Grenoble", "", "", "FR"),
    ("Tessile Biellese Retail", "Negozio di Torino", "store",
     "Via Roma 255", "10123", "Torino", "TO", "piemonte", "IT"),
    ("Tessile Biellese Retail", "Negozio di Firenze", "store",
     "Via dei Calzaiuoli 28", "50122", "Firenze", "FI", "toscana", "IT"),
    ("Veneta Infrastrutture", "Cantiere Pedemontana", "branch",
     "Via Schiavonesca 1", "31044", "Montebelluna", "TV", "veneto", "IT"),
    ("Mediterranea Retail Italia", "Punto vendita Roma Est", "store",
     "Via Collatina 858", "00155", "Roma", "RM", "lazio", "IT"),
    ("Mediterranea Retail Italia", "Punto vendita Latina", "store",
     "Via Epitaffio 50", "04100", "Latina", "LT", "lazio", "IT"),
    ("Mediterranea Retail España", "Tienda Valencia", "store",
     "Carrer de Colón 20", "46004", "València", "", "", "ES"),
    ("Mediterranea Food Sicilia", "Punto vendita Catania", "store",
     "Corso Italia 150", "95129", "Catania", "CT", "sicilia", "IT"),
    ("Sanità Integrata", "Clinica di Viterbo", "branch",
     "Strada Sammartinese 12", "01100", "Viterbo", "VT", "lazio", "IT"),
    ("Sanità Integrata Laboratori", "Laboratorio di Lecce", "branch",
     "Via Oronzo Quarta 40", "73100", "Lecce", "LE", "puglia", "IT"),
    ("Energia Adriatica", "Centrale di Falconara", "plant",
     "Via Flaminia 685", "60015", "Falconara Marittima", "AN", "marche", "IT"),
    ("Energia Adriatica Rinnovabili", "Parco eolico di Melfi", "plant",
     "Contrada Leonessa", "85025", "Melfi", "PZ", "basilicata", "IT"),
    ("Adriatica Energija", "Ured Split", "office",
     "Poljička cesta 35", "21000", "Split", "", "", "HR"),
    ("Farmaceutica Tirrenica", "Magazzino di Prato", "warehouse",
     "Via di Baciacavallo 9", "59100", "Prato", "PO", "toscana", "IT"),
    ("Tirrenica Farma Produzione", "Stabilimento di Pisa", "plant",
     "Via Emilia 400", "56121", "Pisa", "PI", "toscana", "IT"),
)  # fmt: skip

HEADQUARTERS = "Sede centrale"

# Org charts: (job title, buying role, influence, relationship strength, reports to (index)).
GROUP_HEAD_CHART = (
    ("Amministratore delegato", "decision_maker", 5, 3, None),
    ("Direttore finanziario", "economic_buyer", 4, 4, 0),
    ("Direttore acquisti", "influencer", 4, 5, 0),
    ("Direttore sistemi informativi", "technical_buyer", 3, 3, 0),
    ("Responsabile acquisti indiretti", "champion", 3, 5, 2),
    ("Responsabile infrastrutture IT", "user", 2, 2, 3),
)
SUBSIDIARY_CHART = (
    ("Direttore generale", "decision_maker", 5, 3, None),
    ("Direttore operations", "technical_buyer", 3, 4, 0),
    ("Responsabile logistica", "user", 2, 3, 1),
)
# A subsidiary where the operations manager resists the change (and the NAM knows it).
SUBSIDIARY_CHART_WITH_BLOCKER = (
    ("Direttore generale", "decision_maker", 5, 2, None),
    ("Direttore operations", "blocker", 4, 1, 0),
    ("Responsabile manutenzione", "champion", 2, 4, 1),
)
FOREIGN_CHART = (
    ("Managing Director", "decision_maker", 5, 3, None),
    ("Head of Operations", "technical_buyer", 3, 3, 0),
    ("Purchasing Manager", "economic_buyer", 3, 2, 0),
)

FIRST_NAMES = (
    "Alessandro", "Francesca", "Matteo", "Chiara", "Lorenzo", "Valentina", "Andrea", "Federica",
    "Stefano", "Silvia", "Riccardo", "Laura", "Simone", "Martina", "Fabio", "Elisa", "Massimo",
    "Giorgia", "Roberto", "Paola", "Antonio", "Serena", "Giovanni", "Cristina", "Pietro",
    "Roberta", "Nicola", "Ilaria", "Emanuele", "Beatrice",
)  # fmt: skip
LAST_NAMES = (
    "Rossi", "Russo", "Bianchi", "Greco", "Marino", "Lombardi", "Moretti", "Barbieri", "Fontana",
    "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo",
    "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo",
    "Marchetti", "Parisi", "Villa", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso",
    "Valentini", "Messina", "Sala", "De Luca", "Gatti", "Pellegrini", "Palumbo", "Sanna",
    "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri",
)  # fmt: skip
FOREIGN_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "DE": (("Thomas", "Müller"), ("Sabine", "Schmidt"), ("Jürgen", "Weber")),
    "FR": (("Camille", "Martin"), ("Nicolas", "Bernard"), ("Julie", "Dubois")),
    "AT": (("Stefan", "Huber"), ("Katharina", "Gruber"), ("Markus", "Wagner")),
    "ES": (("Javier", "García"), ("Lucía", "Fernández"), ("Carlos", "López")),
    "HR": (("Ivan", "Horvat"), ("Ana", "Kovačević"), ("Marko", "Babić")),
}
PHONE_PREFIXES = {"IT": "+39", "DE": "+49", "FR": "+33", "AT": "+43", "ES": "+34", "HR": "+385"}

# Activities: (kind, subject, notes, next step, due in days (negative: overdue), days ago,
# indexes of the contacts who took part).
GROUP_HEAD_ACTIVITIES = (
    ("qbr", "Quarterly business review", "Revisione dei volumi e del livello di servizio del "
     "trimestre; richiesta una proposta per il rinnovo del contratto quadro.",
     "Inviare la proposta di rinnovo", 10, 12, (0, 1, 2)),
    ("meeting", "Piano di espansione all'estero", "Il cliente apre due nuove sedi l'anno "
     "prossimo; interessati a estendere il contratto alle consociate estere.",
     "Preparare l'offerta per le consociate", -3, 25, (0, 2)),
    ("call", "Chiarimenti sulle fatture di marzo", "Due righe fatturate a prezzo di listino "
     "invece che a prezzo contrattuale.", "Verificare con finance e richiamare", 2, 3, (1,)),
)  # fmt: skip
SUBSIDIARY_ACTIVITIES = (
    ("visit", "Visita in sede", "Giro dello stabilimento con il direttore operations; "
     "possibile progetto di formazione per il personale.",
     "Proporre un calendario di formazione", 14, 8, (0, 1)),
    ("email", "Conferma riordino trimestrale", "Il cliente conferma il riordino abituale con "
     "quantità in aumento del 10%.", "", None, 5, (1,)),
    ("training", "Formazione utenti chiave", "Sessione per gli utenti chiave completata; "
     "feedback positivo, chiesto un secondo turno.", "Pianificare il secondo turno", -5, 30,
     (2,)),
)  # fmt: skip

# This year's revenue target per group, split across the companies in it.
GROUP_TARGETS = {
    "Gruppo Alimentare Padano": Decimal("4800000.00"),
    "Officine Meccaniche Lombarde": Decimal("3600000.00"),
    "Tessile Biellese Holding": Decimal("1900000.00"),
    "Veneta Costruzioni": Decimal("2400000.00"),
    "Mediterranea Retail Holding": Decimal("5200000.00"),
    "Sanità Integrata": Decimal("2700000.00"),
    "Energia Adriatica": Decimal("3100000.00"),
    "Farmaceutica Tirrenica": Decimal("2200000.00"),
}


@transaction.atomic
def seed() -> None:
    _seed_users()
    _seed_clients()


def _seed_users() -> None:
    ensure_role_groups()
    for demo in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@demo.accounts-crm.example",
                "is_staff": Role.ADMIN in demo.roles,
                "is_superuser": Role.ADMIN in demo.roles,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=demo.roles))


def _seed_clients() -> None:
    from clients.models import Client, Team

    users = {
        user.username: user
        for user in User.objects.filter(username__in=[u.username for u in DEMO_USERS])
    }
    teams: dict[str, Team] = {}
    for name, (lead, members) in DEMO_TEAMS.items():
        teams[name], _ = Team.objects.get_or_create(name=name, defaults={"lead": users[lead]})
        teams[name].members.add(*(users[member] for member in members))

    clients: dict[str, Client] = {}
    for demo in DEMO_CLIENTS:
        values = {
            "legal_name": demo.legal_name,
            "vat_number": demo.vat_number,
            "tax_code": demo.vat_number if demo.is_italian else "",
            "sdi_code": demo.sdi_code,
            "pec": demo.pec,
            "team": teams[demo.team],
            "industry": demo.industry,
            "tier": demo.tier,
            "status": demo.status,
            "scope": demo.scope,
            "parent": clients[demo.parent] if demo.parent else None,
            "street": demo.street,
            "postal_code": demo.postal_code,
            "city": demo.city,
            "province": demo.province,
            "region": demo.region,
            "country": demo.country,
        }
        client, created = Client.objects.get_or_create(name=demo.name, defaults=values)
        if not created:
            _fill_blanks(client, values)
        clients[demo.name] = client

    group_of = {demo.name: _group_head(demo) for demo in DEMO_CLIENTS}
    _seed_account_teams(clients, users)
    _seed_sites(clients)
    contacts = _seed_contacts(clients)
    _seed_activities(clients, users, contacts)
    _seed_account_plans(clients, group_of)


def _group_head(demo: DemoClient) -> str:
    by_name = {d.name: d for d in DEMO_CLIENTS}
    while demo.parent:
        demo = by_name[demo.parent]
    return demo.name


def _fill_blanks(obj: object, values: dict[str, object]) -> None:
    """Complete a row made by an older version of the demo data; never overwrite a value.

    Rows are updated, not saved, so a second run with nothing to fill writes nothing.
    """
    missing = {
        name: value
        for name, value in values.items()
        if value not in ("", None) and getattr(obj, name) in ("", None)
    }
    if missing:
        type(obj).objects.filter(pk=obj.pk).update(**missing)  # type: ignore[attr-defined]
        for name, value in missing.items():
            setattr(obj, name, value)


def _seed_account_teams(clients: dict, users: dict[str, User]) -> None:
    from clients.models import AccountTeamMember

    role = AccountTeamMember.Role
    base = AccountTeamMember.WorkBase
    starts_on = datetime.date(timezone.localdate().year - 2, 1, 1)
    for index, demo in enumerate(DEMO_CLIENTS):
        client, staff = clients[demo.name], TEAM_STAFF[demo.team]
        nam = demo.nam or staff["nam"]
        AccountTeamMember.objects.get_or_create(
            client=client,
            role=role.NAM,
            ends_on=None,
            defaults={"user": users[nam], "work_base": base.CLIENT_SITE, "starts_on": starts_on},
        )
        # Group heads get the whole account team; subsidiaries share the group's people.
        members: list[tuple[str, str]] = [(role.SALES, base.SATELLITE_OFFICE)]
        if demo.parent is None:
            members += [
                (role.EXECUTIVE_SPONSOR, base.MAIN_OFFICE),
                (role.PROJECT_MANAGER, base.CLIENT_SITE),
                (role.CUSTOMER_SERVICE, base.HOME_OFFICE),
            ]
        elif index % 2:
            members.append((role.CUSTOMER_SERVICE, base.HOME_OFFICE))
        for member_role, work_base in members:
            AccountTeamMember.objects.get_or_create(
                client=client,
                user=users[staff[member_role]],
                role=member_role,
                defaults={"work_base": work_base, "starts_on": starts_on},
            )
    # The delivery and service people of the first demo data, on the Padano accounts.
    for client_name in ("Gruppo Alimentare Padano", "Padano Distribuzione"):
        for username, member_role, work_base in (
            ("luca.pm", role.PROJECT_MANAGER, base.CLIENT_SITE),
            ("sara.cs", role.CUSTOMER_SERVICE, base.HOME_OFFICE),
        ):
            AccountTeamMember.objects.get_or_create(
                client=clients[client_name],
                user=users[username],
                role=member_role,
                defaults={"work_base": work_base, "starts_on": starts_on},
            )


def _seed_sites(clients: dict) -> None:
    from clients.models import Site

    rows = [
        (demo.name, HEADQUARTERS, "headquarters", demo.street, demo.postal_code, demo.city,
         demo.province, demo.region, demo.country)
        for demo in DEMO_CLIENTS
    ]  # fmt: skip
    for client_name, name, kind, street, postal_code, city, province, region, country in [
        *rows,
        *DEMO_SITES,
    ]:
        Site.objects.get_or_create(
            client=clients[client_name],
            name=name,
            defaults={
                "kind": kind,
                "street": street,
                "postal_code": postal_code,
                "city": city,
                "province": province,
                "region": region,
                "country": country,
            },
        )


def _seed_contacts(clients: dict) -> dict[str, list]:
    """Each company's org chart, top down so that everyone's manager exists already."""
    from clients.models import Contact, Site

    sites: dict[int, list[Site]] = {}
    for site in Site.objects.filter(client__in=clients.values()).order_by("kind", "name"):
        sites.setdefault(site.client_id, []).append(site)

    contacts: dict[str, list[Contact]] = {}
    person = 0
    for index, demo in enumerate(DEMO_CLIENTS):
        client = clients[demo.name]
        if not demo.is_italian:
            chart = FOREIGN_CHART
        elif demo.parent is None:
            chart = GROUP_HEAD_CHART
        else:
            chart = SUBSIDIARY_CHART_WITH_BLOCKER if index % 5 == 3 else SUBSIDIARY_CHART
        # Headquarters first (kind order), then the company's other sites.
        client_sites = sites.get(client.pk, [])
        made: list[Contact] = []
        for position, (title, buying_role, influence, strength, manager) in enumerate(chart):
            if demo.is_italian:
                first = FIRST_NAMES[(person * 7) % len(FIRST_NAMES)]
                last = LAST_NAMES[(person * 13) % len(LAST_NAMES)]
                person += 1
            else:
                first, last = FOREIGN_NAMES[demo.country][position % 3]
            email = f"{_mailbox(first)}.{_mailbox(last)}@{demo.slug}.example"
            site = client_sites[min(position // 3, len(client_sites) - 1)] if client_sites else None
            contact, _ = Contact.objects.get_or_create(
                client=client,
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "job_title": title,
                    "phone": _phone(demo.country, index * 10 + position),
                    "buying_role": buying_role,
                    "influence": influence,
                    "relationship_strength": strength,
                    "reports_to": made[manager] if manager is not None else None,
                    "site": site,
                },
            )
            made.append(contact)
        contacts[demo.name] = made
    return contacts


def _mailbox(name: str) -> str:
    return slugify(name).replace("-", "")


def _phone(country: str, n: int) -> str:
    return f"{PHONE_PREFIXES[country]} {320 + n % 60} {(n * 7919) % 9_000_000 + 1_000_000}"


def _seed_activities(clients: dict, users: dict[str, User], contacts: dict[str, list]) -> None:
    from clients.models import Activity

    today = timezone.localdate()
    now = timezone.localtime().replace(hour=10, minute=30, second=0, microsecond=0)
    for index, demo in enumerate(DEMO_CLIENTS):
        if demo.parent is None:
            templates = GROUP_HEAD_ACTIVITIES
        elif demo.status == "active" and index % 3 != 2:
            templates = SUBSIDIARY_ACTIVITIES[index % 3 : index % 3 + 1]
        else:
            continue
        author = users[demo.nam or TEAM_STAFF[demo.team]["nam"]]
        people = contacts[demo.name]
        for kind, subject, notes, next_step, due_in, days_ago, who in templates:
            activity, created = Activity.objects.get_or_create(
                client=clients[demo.name],
                subject=subject,
                defaults={
                    "kind": kind,
                    "notes": notes,
                    "author": author,
                    "occurred_at": now - datetime.timedelta(days=days_ago),
                    "next_step": next_step,
                    "next_step_due": (
                        today + datetime.timedelta(days=due_in) if due_in is not None else None
                    ),
                },
            )
            if created:
                activity.contacts.set(people[i] for i in who if i < len(people))


def _seed_account_plans(clients: dict, group_of: dict[str, str]) -> None:
    from clients.models import AccountPlan

    year = timezone.localdate().year
    companies: dict[str, list[DemoClient]] = {}
    for demo in DEMO_CLIENTS:
        if demo.status == "active":
            companies.setdefault(group_of[demo.name], []).append(demo)
    for head, members in companies.items():
        # The group head carries 40% of the group target, the rest is split evenly.
        head_share = Decimal("0.4") if len(members) > 1 else Decimal(1)
        rest = (1 - head_share) / max(len(members) - 1, 1)
        for demo in members:
            share = head_share if demo.name == head else rest
            target = (GROUP_TARGETS[head] * share).quantize(Decimal("1000"))
            AccountPlan.objects.get_or_create(
                client=clients[demo.name],
                year=year,
                defaults={
                    "revenue_target": target,
                    "currency": "EUR",
                    "objectives": (
                        f"Portare il fatturato {year} a {target:,.0f} EUR; estendere il contratto "
                        "quadro alle consociate; avviare almeno un progetto di formazione."
                    ),
                    "strengths": "Relazione solida con l'ufficio acquisti; consegne puntuali.",
                    "risks": "Concorrenza aggressiva sui prezzi; riorganizzazione in corso.",
                },
            )
