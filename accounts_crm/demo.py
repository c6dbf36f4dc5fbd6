"""The demo book: believable people, teams and clients, created idempotently.

`manage.py seed_demo` calls `seed()`. Every row is looked up by a natural key before it is
created, so running it twice changes nothing. Later apps add their sections here.

The book: two teams, eight client groups (four of them international, with subsidiaries in
Germany, France, Austria, Spain and Croatia), sites across Italian regions and abroad, an org
chart of contacts at every company, account teams with every role, recent activities with next
steps, and this year's account plans; a product catalogue, contracts with agreed prices, two
years of orders and a few opportunities; projects in every status with their timelines (some
late, one at risk), tasks, training sessions with attendance and feedback, marketing initiatives
and service cases (some past their SLA), so the deadline scan finds real work; a year of
invoices with one mistake of every kind the checks look for; the seller's fiscal profile and an
issued e-invoice of every FatturaPA kind, ready for finance to export. Everything is
derived from the tables below (the order history with a fixed random seed, relative to the day of
seeding), so every run and every machine gets the same book.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
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
    # Scissione dei pagamenti: a company on the MEF lists (controlled by public bodies).
    split_payment: bool = False

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
    # The grid company is controlled by the region's municipalities: split payment.
    _client("Energia Adriatica Reti", "S.p.A.", partita_iva(7740052, 9), SOUTH,
            "Energy & utilities", ("Via Po 22", "66100", "Chieti", "CH", "abruzzo", "IT"),
            parent="Energia Adriatica", split_payment=True),
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
    _seed_orders()
    _seed_projects()
    _seed_billing()


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
            "split_payment": demo.split_payment,
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


# Orders: catalogue, contracts, two years of history, opportunities ---------------------------
#
# The history is generated from a fixed seed, relative to the day it is seeded, and made once:
# a second run finds the demo clients' orders and leaves them alone. Each company buys a few
# products of its industry's families on its own rhythm (every 2 weeks to every quarter, a few
# days early or late); some stopped reordering a while ago, so "reorders due" has real rows, and
# companies of one industry buy different families, so "whitespace" has real suggestions.
# Rows are bulk-created for speed; every value is the one the services would have set (prices
# from the contract in force on the order date, VAT from the product), so constraints hold.

ORDERS_SEED = 20260101

# Families: (family, kind, VAT rate, VAT nature, products as (SKU, name, unit, list price)).
DEMO_CATALOGUE: tuple[tuple[str, str, str, str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("Consumables", "product", "22", "", (
        ("CON-TON-01", "Toner nero alta resa", "pz", "89.00"),
        ("CON-TON-02", "Toner colore kit CMY", "kit", "215.00"),
        ("CON-PAP-A4", "Carta A4 80 g (risma x 5)", "box", "24.50"),
        ("CON-PAP-A3", "Carta A3 80 g (risma x 5)", "box", "46.00"),
        ("CON-LAB-01", "Etichette termiche 100x150 (rotolo)", "roll", "7.80"),
        ("CON-RIB-01", "Ribbon cera-resina 110 mm", "pz", "18.40"),
        ("CON-CLE-01", "Kit pulizia stampanti", "kit", "32.00"),
        ("CON-BAT-01", "Batterie ricaricabili terminali (x10)", "box", "149.00"),
    )),
    ("Hardware", "product", "22", "", (
        ("HW-NB-14", "Notebook 14\" professionale", "pz", "1149.00"),
        ("HW-NB-16", "Notebook 16\" workstation", "pz", "2290.00"),
        ("HW-MON-27", "Monitor 27\" QHD", "pz", "329.00"),
        ("HW-PRN-MF", "Multifunzione A3 laser", "pz", "2890.00"),
        ("HW-PRN-LB", "Stampante etichette industriale", "pz", "1340.00"),
        ("HW-SCN-01", "Scanner documentale duplex", "pz", "760.00"),
        ("HW-DOCK-01", "Docking station USB-C", "pz", "189.00"),
    )),
    ("Logistics equipment", "product", "22", "", (
        ("LOG-HHT-01", "Terminale portatile Android con scanner", "pz", "1290.00"),
        ("LOG-RFID-01", "Varco RFID per magazzino", "pz", "5400.00"),
        ("LOG-RFID-TG", "Tag RFID UHF (x1000)", "box", "310.00"),
        ("LOG-SCN-RG", "Scanner da polso", "pz", "640.00"),
        ("LOG-VEH-01", "Terminale veicolare per carrelli", "pz", "2150.00"),
        ("LOG-CHG-01", "Base di ricarica a 4 posti", "pz", "420.00"),
        ("LOG-SHL-01", "Scaffalatura leggera (modulo)", "pz", "265.00"),
    )),
    ("Software", "software", "22", "", (
        ("SW-ERP-U", "Licenza ERP utente nominale", "user", "1450.00"),
        ("SW-WMS-U", "Licenza WMS utente", "user", "980.00"),
        ("SW-MES-S", "Licenza MES per linea", "line", "8900.00"),
        ("SW-CRM-U", "Licenza CRM utente", "user", "690.00"),
        ("SW-BI-U", "Licenza Business Intelligence", "user", "540.00"),
        ("SW-SEC-EP", "Protezione endpoint (x10)", "pack", "390.00"),
        ("SW-DMS-U", "Gestione documentale utente", "user", "320.00"),
    )),
    ("Cloud subscriptions", "subscription", "22", "", (
        ("SUB-M365-M", "Suite produttività cloud (mese, utente)", "month", "12.50"),
        ("SUB-BCK-TB", "Backup cloud (TB al mese)", "month", "38.00"),
        ("SUB-VM-M", "Macchina virtuale gestita (mese)", "month", "210.00"),
        ("SUB-SOC-M", "Monitoraggio sicurezza SOC (mese)", "month", "1650.00"),
        ("SUB-EDI-M", "Servizio EDI (mese)", "month", "480.00"),
        ("SUB-SDI-M", "Conservazione e fatturazione elettronica (mese)", "month", "95.00"),
        ("SUB-IOT-M", "Piattaforma IoT (mese, 100 sensori)", "month", "720.00"),
    )),
    ("Professional services", "service", "22", "", (
        ("SRV-CON-D", "Consulenza senior (giornata)", "day", "950.00"),
        ("SRV-PM-D", "Project management (giornata)", "day", "780.00"),
        ("SRV-DEV-D", "Sviluppo personalizzazioni (giornata)", "day", "690.00"),
        ("SRV-INST-D", "Installazione on site (giornata)", "day", "620.00"),
        ("SRV-AUD-01", "Audit infrastruttura IT", "pz", "4800.00"),
        ("SRV-MNT-Y", "Manutenzione hardware (anno)", "year", "3200.00"),
        ("SRV-HLP-M", "Help desk dedicato (mese)", "month", "2400.00"),
    )),
    ("Training", "training", "22", "", (
        ("TRN-ERP-B", "Corso ERP base (partecipante)", "seat", "450.00"),
        ("TRN-ERP-A", "Corso ERP avanzato (partecipante)", "seat", "690.00"),
        ("TRN-WMS-01", "Formazione operatori di magazzino (giornata)", "day", "1100.00"),
        ("TRN-SEC-01", "Sensibilizzazione sicurezza informatica (aula)", "class", "1800.00"),
        ("TRN-KEY-01", "Formazione utenti chiave on site (giornata)", "day", "1250.00"),
        ("TRN-ELN-01", "Catalogo e-learning (utente, anno)", "user", "140.00"),
    )),
    # Training run as an accredited body's course is VAT exempt (DPR 633/72 art. 10): nature N4.
    ("Training", "training", "0", "N4", (
        ("TRN-FIN-01", "Corso finanziato Fondimpresa (partecipante)", "seat", "520.00"),
    )),
    ("Publications", "product", "4", "", (
        ("PUB-MAN-01", "Manuale tecnico stampato ERP", "pz", "58.00"),
        ("PUB-NRM-01", "Raccolta norme sicurezza macchine", "pz", "120.00"),
        ("PUB-GDE-01", "Guida operativa magazzino (volume)", "pz", "36.00"),
        ("PUB-ANN-01", "Annuario tecnico di settore", "pz", "85.00"),
    )),
    ("Hospitality", "service", "10", "", (
        ("HOS-CAT-01", "Catering evento aziendale (persona)", "person", "42.00"),
        ("HOS-HTL-01", "Pernottamento corsisti (notte)", "night", "118.00"),
        ("HOS-MTG-01", "Sala riunioni attrezzata (giornata)", "day", "650.00"),
    )),
    ("Safety equipment", "product", "22", "", (
        ("SAF-GLV-01", "Guanti antitaglio (x12)", "box", "64.00"),
        ("SAF-HLM-01", "Elmetto con visiera", "pz", "39.00"),
        ("SAF-SHO-01", "Scarpe antinfortunistiche S3", "pair", "79.00"),
        ("SAF-VST-01", "Gilet alta visibilità (x10)", "box", "55.00"),
        ("SAF-DEF-01", "Defibrillatore semiautomatico", "pz", "1190.00"),
    )),
    ("Energy monitoring", "product", "22", "", (
        ("ENM-MTR-01", "Contatore di energia trifase", "pz", "340.00"),
        ("ENM-GTW-01", "Gateway di campo", "pz", "890.00"),
        ("ENM-SNS-01", "Sensore di temperatura wireless (x10)", "box", "460.00"),
    )),
)  # fmt: skip

# What an industry buys: (families bought on a rhythm, families bought now and then).
INDUSTRY_BUYING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Food & beverage": (("Consumables", "Logistics equipment", "Safety equipment", "Hardware"),
                        ("Training", "Professional services", "Hospitality")),
    "Logistics": (("Consumables", "Logistics equipment", "Cloud subscriptions"),
                  ("Training", "Safety equipment", "Software")),
    "Machinery": (("Consumables", "Hardware", "Cloud subscriptions", "Safety equipment"),
                  ("Software", "Professional services", "Training", "Publications")),
    "Industrial automation": (("Hardware", "Cloud subscriptions", "Energy monitoring"),
                              ("Software", "Professional services", "Publications")),
    "Textiles": (("Consumables", "Hardware", "Cloud subscriptions"),
                 ("Software", "Training", "Hospitality")),
    "Retail": (("Consumables", "Hardware", "Cloud subscriptions", "Logistics equipment"),
               ("Software", "Training", "Professional services", "Hospitality")),
    "Construction": (("Safety equipment", "Consumables", "Hardware"),
                     ("Training", "Publications", "Professional services")),
    "Healthcare": (("Consumables", "Cloud subscriptions", "Hardware"),
                   ("Software", "Training", "Professional services")),
    "Energy & utilities": (("Energy monitoring", "Cloud subscriptions", "Safety equipment"),
                           ("Hardware", "Professional services", "Training", "Software")),
    "Pharmaceuticals": (("Consumables", "Cloud subscriptions", "Logistics equipment"),
                        ("Software", "Professional services", "Training", "Publications")),
}  # fmt: skip


# Whitespace: families a group never buys although clients of its industries elsewhere do.
# Those other clients buy them on a rhythm, so each group below gets real suggestions.
WHITESPACE_GAPS: dict[str, tuple[str, ...]] = {
    "Gruppo Alimentare Padano": ("Cloud subscriptions",),  # Mediterranea Logistica Sud buys it
    "Tessile Biellese Holding": ("Logistics equipment",),  # Mediterranea's retailers buy it
    "Mediterranea Retail Holding": ("Safety equipment", "Training"),  # TB Retail, Padano Log.
}


@dataclass(frozen=True)
class DemoContract:
    number: str
    client: str
    status: str
    starts: int  # days from today (negative: in the past)
    ends: int
    applies_to_subsidiaries: bool = False
    default_discount: str = "10.00"
    in_force_until: int | None = None  # a terminated contract stopped taking orders then
    auto_renew: bool = False
    payment_terms_days: int = 60


DEMO_CONTRACTS: tuple[DemoContract, ...] = (
    DemoContract("CQ-PAD-2024", "Gruppo Alimentare Padano", "active", -800, 400,
                 applies_to_subsidiaries=True, default_discount="12.00", auto_renew=True),
    DemoContract("CQ-OML-2024", "Officine Meccaniche Lombarde", "active", -760, 330,
                 applies_to_subsidiaries=True, default_discount="8.00", payment_terms_days=90),
    DemoContract("CQ-TBH-2024", "Tessile Biellese Holding", "active", -740, 360,
                 default_discount="7.50"),
    # Lanificio's agreement ends within its 90-day renewal notice: time to talk renewal.
    DemoContract("CQ-LVS-2025", "Lanificio Valsessera", "active", -500, 75,
                 default_discount="5.00", payment_terms_days=30),
    # Veneta's framework agreement ran out four months ago and has not been renewed yet.
    DemoContract("CQ-VEN-2023", "Veneta Costruzioni", "expired", -1100, -120,
                 applies_to_subsidiaries=True, default_discount="6.00"),
    DemoContract("CQ-MED-2024", "Mediterranea Retail Holding", "active", -780, 310,
                 applies_to_subsidiaries=True, default_discount="15.00", auto_renew=True),
    # Sanità terminated its first agreement early and signed a new one the next day.
    DemoContract("CQ-SAN-2023", "Sanità Integrata", "terminated", -900, 200,
                 applies_to_subsidiaries=True, in_force_until=-180),
    DemoContract("CQ-SAN-2025", "Sanità Integrata", "active", -179, 900,
                 applies_to_subsidiaries=True, default_discount="11.00"),
    DemoContract("CQ-ENA-2024", "Energia Adriatica", "active", -820, 280,
                 applies_to_subsidiaries=True, default_discount="9.00", payment_terms_days=90),
)  # fmt: skip
# Farmaceutica Tirrenica buys at list price: no contract (yet).

# Opportunities: (client, title, stage, value, probability, close in days, source, SKUs).
DEMO_OPPORTUNITIES: tuple[tuple[str, str, str, str, int, int, str, tuple[str, ...]], ...] = (
    ("Gruppo Alimentare Padano", "Rinnovo parco notebook 2027", "proposal", "185000.00", 50,
     45, "manual", ("HW-NB-14", "HW-DOCK-01")),
    ("Officine Meccaniche Lombarde", "MES sulle linee di Lecco", "negotiation", "240000.00", 70,
     20, "manual", ("SW-MES-S", "SRV-CON-D")),
    ("Mediterranea Retail Italia", "RFID nei punti vendita del Lazio", "qualification",
     "96000.00", 20, 90, "manual", ("LOG-RFID-01", "LOG-RFID-TG")),
    ("Sanità Integrata", "SOC gestito per le cliniche", "proposal", "59400.00", 40, 30,
     "manual", ("SUB-SOC-M",)),
    ("Tessile Biellese Holding", "Whitespace: Logistics equipment", "qualification", "0.00", 10,
     60, "whitespace", ("LOG-HHT-01",)),
    ("Energia Adriatica Reti", "Sensori di campo per le cabine", "lost", "38000.00", 0, -20,
     "manual", ("ENM-SNS-01", "ENM-GTW-01")),
)  # fmt: skip


def _seed_orders() -> None:
    from clients.models import Client
    from orders.models import ContractPrice, Order, OrderLine, Product

    rng = random.Random(ORDERS_SEED)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    products = _seed_catalogue()
    clients = {c.name: c for c in Client.objects.filter(name__in=[d.name for d in DEMO_CLIENTS])}
    usernames = [d.username for d in DEMO_USERS]
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    contracts = _seed_contracts(clients, products, rng, today)
    _seed_opportunities(clients, users, products, today)
    if Order.objects.filter(client__in=clients.values()).exists():
        return  # the history is made once

    prices: dict[tuple[int, int], list[ContractPrice]] = {}
    for price in ContractPrice.objects.filter(contract__in=[c for c, _ in contracts.values()]):
        prices.setdefault((price.contract_id, price.product_id), []).append(price)
    by_family: dict[str, list[Product]] = {}
    for product in products.values():
        by_family.setdefault(product.family, []).append(product)
    for family in by_family.values():
        family.sort(key=lambda p: p.sku)

    group_of = {demo.name: _group_head(demo) for demo in DEMO_CLIENTS}
    industries_of = {
        head: {d.industry for d in DEMO_CLIENTS if group_of[d.name] == head}
        for head in WHITESPACE_GAPS
    }
    # Purchases: (client, day) -> [(product, quantity)].
    purchases: dict[tuple[str, datetime.date], list[tuple[Product, int]]] = {}
    for demo in DEMO_CLIENTS:
        if demo.status == "prospect":
            continue
        stop = today - datetime.timedelta(days=365) if demo.status == "inactive" else today
        gaps = WHITESPACE_GAPS.get(group_of[demo.name], ())
        regular, occasional = INDUSTRY_BUYING[demo.industry]
        regular = tuple(f for f in regular if f not in gaps)
        occasional = tuple(f for f in occasional if f not in gaps)
        # Companies of one industry differ: each buys from most, not all, of its families.
        chosen = rng.sample(regular, k=len(regular) - rng.randint(1, 2))
        chosen += [
            family
            for head, families in WHITESPACE_GAPS.items()
            if head != group_of[demo.name] and demo.industry in industries_of[head]
            for family in families
            if family not in chosen and family not in gaps
        ]
        per_family = 2 if demo.parent is None else 1
        for family in chosen:
            for product in rng.sample(by_family[family], k=per_family):
                interval = rng.choice((21, 30, 30, 45, 60, 60, 90, 90))
                lapsed = rng.random() < 0.3  # stopped reordering a while ago: due now
                end = stop - datetime.timedelta(days=int(interval * 1.4)) if lapsed else stop
                quantity = (
                    rng.choice((1, 2, 3, 5, 10, 20, 50))
                    if product.unit in ("box", "pz", "roll", "kit", "month", "pack", "pair")
                    else rng.randint(1, 4)
                )
                day = today - datetime.timedelta(days=730 - rng.randint(0, interval))
                while day < end:
                    amount = max(1, round(quantity * rng.uniform(0.8, 1.25)))
                    # Purchasing places its orders on Mondays: one order per client and week.
                    monday = day - datetime.timedelta(days=day.weekday())
                    purchases.setdefault((demo.name, monday), []).append((product, amount))
                    day += datetime.timedelta(days=interval + rng.randint(-3, 3))
        for family in rng.sample(occasional, k=min(2, len(occasional))):
            product = rng.choice(by_family[family])
            for _ in range(rng.randint(1, 2)):
                day = stop - datetime.timedelta(days=rng.randint(5, 700))
                purchases.setdefault((demo.name, day), []).append((product, rng.randint(1, 6)))

    orders: list[Order] = []
    pending_lines: list[list[OrderLine]] = []
    seen_clients: set[str] = set()
    sequence: dict[int, int] = {}
    for (client_name, day), items in sorted(purchases.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        client = clients[client_name]
        demo = next(d for d in DEMO_CLIENTS if d.name == client_name)
        contract = _contract_in_force(client, day, contracts, clients)
        age = (today - day).days
        if age > 40:
            status = "cancelled" if rng.random() < 0.03 else "fulfilled"
        elif age > 12:
            status = rng.choice(("confirmed", "in_progress", "fulfilled"))
        else:
            status = rng.choice(("submitted", "confirmed"))
        sequence[day.year] = sequence.get(day.year, 0) + 1
        kind = "reorder" if client_name in seen_clients else "new"
        seen_clients.add(client_name)
        order = Order(
            number=f"ORD-{day.year}-{sequence[day.year]:05d}",
            client=client,
            contract=contract,
            kind=kind,
            status=status,
            client_po=f"PO-{client.pk:03d}-{day:%y%m%d}",
            order_date=day,
            requested_delivery=day + datetime.timedelta(days=14),
            owner=users[demo.nam or TEAM_STAFF[demo.team]["nam"]],
            currency="EUR",
        )
        lines = []
        for product, quantity in items:
            if any(line.product_id == product.pk for line in lines):
                continue
            agreed = _agreed_price(prices, contract, product, day)
            if agreed is not None:
                unit_price, discount = agreed, Decimal("0")
            else:
                unit_price = product.list_price
                discount = contract.default_discount if contract else Decimal("0")
            delivered = {"fulfilled": quantity, "in_progress": quantity // 2}.get(status, 0)
            lines.append(OrderLine(
                product=product, description=product.name, quantity=Decimal(quantity),
                unit_price=unit_price, discount=discount, vat_rate=product.vat_rate,
                vat_nature=product.vat_nature, contract_price=agreed,
                delivered_quantity=Decimal(delivered),
            ))  # fmt: skip
        orders.append(order)
        pending_lines.append(lines)

    # A few reorders being drafted today: those products are not "due" any more.
    drafts = [(o, ls) for o, ls in zip(orders, pending_lines, strict=True)
              if o.status == "fulfilled" and (today - o.order_date).days < 120][::17]  # fmt: skip
    for source, lines in drafts[:6]:
        sequence[today.year] = sequence.get(today.year, 0) + 1
        orders.append(Order(
            number=f"ORD-{today.year}-{sequence[today.year]:05d}", client=source.client,
            contract=_contract_in_force(source.client, today, contracts, clients),
            kind="reorder", status="draft", order_date=today, owner=source.owner,
            currency="EUR", notes="Riordino in preparazione.",
        ))  # fmt: skip
        copies = []
        for line in lines:
            contract = orders[-1].contract
            agreed = _agreed_price(prices, contract, line.product, today)
            copies.append(OrderLine(
                product=line.product, description=line.description, quantity=line.quantity,
                unit_price=agreed if agreed is not None else line.product.list_price,
                discount=Decimal("0") if agreed is not None or not contract
                else contract.default_discount,
                vat_rate=line.vat_rate, vat_nature=line.vat_nature, contract_price=agreed,
            ))  # fmt: skip
        pending_lines.append(copies)
    # Drafts point back to what they reorder once both have ids.
    Order.objects.bulk_create(orders, batch_size=500)
    for index, (source, _) in enumerate(drafts[:6]):
        draft = orders[len(orders) - len(drafts[:6]) + index]
        draft.reorder_of = source
    Order.objects.bulk_update(orders[len(orders) - len(drafts[:6]) :], ["reorder_of"])
    all_lines = []
    for order, lines in zip(orders, pending_lines, strict=True):
        for line in lines:
            line.order = order
            all_lines.append(line)
    OrderLine.objects.bulk_create(all_lines, batch_size=1000)
    _seed_status_history(orders)


def _seed_catalogue() -> dict[str, object]:
    from orders.models import Product

    existing = {p.sku: p for p in Product.objects.all()}
    new = [
        Product(sku=sku, name=name, family=family, kind=kind, unit=unit,
                list_price=Decimal(price), vat_rate=Decimal(rate), vat_nature=nature)
        for family, kind, rate, nature, items in DEMO_CATALOGUE
        for sku, name, unit, price in items
        if sku not in existing
    ]  # fmt: skip
    Product.objects.bulk_create(new)
    skus = [sku for *_, items in DEMO_CATALOGUE for sku, *_ in items]
    return {p.sku: p for p in Product.objects.filter(sku__in=skus)}


def _seed_contracts(
    clients: dict, products: dict, rng: random.Random, today: datetime.date
) -> dict:
    """Contracts by number, each with the last day it took orders; agreed prices for most of
    what the group buys, with a price rise on 1 January for some."""
    from orders.models import Contract, ContractPrice

    made: dict[str, tuple[Contract, datetime.date]] = {}
    for demo in DEMO_CONTRACTS:
        starts_on = today + datetime.timedelta(days=demo.starts)
        ends_on = today + datetime.timedelta(days=demo.ends)
        contract, created = Contract.objects.get_or_create(
            number=demo.number,
            defaults={
                "client": clients[demo.client], "status": demo.status, "starts_on": starts_on,
                "ends_on": ends_on, "auto_renew": demo.auto_renew,
                "payment_terms_days": demo.payment_terms_days,
                "default_discount": Decimal(demo.default_discount),
                "applies_to_subsidiaries": demo.applies_to_subsidiaries,
                "billing_cap": Decimal("2500000.00"), "annual_commitment": Decimal("400000.00"),
                "terms": "Contratto quadro di fornitura. Consegna entro 14 giorni lavorativi; "
                         "resi entro 30 giorni; prezzi fissi per periodo di validità.",
            },
        )  # fmt: skip
        until = contract.ends_on
        if demo.in_force_until is not None:
            until = min(until, today + datetime.timedelta(days=demo.in_force_until))
        made[demo.number] = (contract, until)
        if not created:
            continue
        industry = next(d.industry for d in DEMO_CLIENTS if d.name == demo.client)
        families = set(INDUSTRY_BUYING[industry][0])
        rise = datetime.date(today.year, 1, 1)
        prices = []
        for product in sorted(products.values(), key=lambda p: p.sku):
            if product.family not in families or rng.random() < 0.2:
                continue
            agreed = (product.list_price * Decimal(rng.uniform(0.78, 0.92))).quantize(
                Decimal("0.01")
            )
            if contract.starts_on < rise <= contract.ends_on and rng.random() < 0.5:
                prices.append(
                    ContractPrice(
                        contract=contract,
                        product=product,
                        unit_price=agreed,
                        valid_from=contract.starts_on,
                        valid_to=rise - datetime.timedelta(days=1),
                    )
                )
                agreed = (agreed * Decimal("1.03")).quantize(Decimal("0.01"))
                prices.append(
                    ContractPrice(
                        contract=contract,
                        product=product,
                        unit_price=agreed,
                        valid_from=rise,
                        valid_to=contract.ends_on,
                    )
                )
            else:
                prices.append(
                    ContractPrice(
                        contract=contract,
                        product=product,
                        unit_price=agreed,
                        valid_from=contract.starts_on,
                        valid_to=contract.ends_on,
                    )
                )
        ContractPrice.objects.bulk_create(prices)  # fmt: skip
    return made


def _contract_in_force(client: object, day: datetime.date, contracts: dict, clients: dict):
    """The client's own contract taking orders on `day`, else one of its group's that applies
    to subsidiaries (the demo groups are one level deep under the head)."""
    own = [c for c, until in contracts.values()
           if c.client_id == client.pk and c.starts_on <= day <= until]  # fmt: skip
    if own:
        return own[0]
    if client.parent_id is None:
        return None
    inherited = [c for c, until in contracts.values()
                 if c.client_id == client.parent_id and c.applies_to_subsidiaries
                 and c.starts_on <= day <= until]  # fmt: skip
    return inherited[0] if inherited else None


def _agreed_price(prices: dict, contract: object, product: object, day: datetime.date):
    if contract is None:
        return None
    for price in prices.get((contract.pk, product.pk), ()):
        if price.valid_from <= day and (price.valid_to is None or day <= price.valid_to):
            return price.unit_price
    return None


def _seed_status_history(orders: list) -> None:
    """Who moved each order, dated on the order's own timeline (a step every 3 days, never
    after today), in one statement: status -> the path that led there."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_orderstatuschange (order_id, from_status, to_status, by_id, at, note)
            SELECT o.id, path.from_status, path.to_status, o.owner_id,
                   LEAST(o.order_date + 3 * path.step, CURRENT_DATE)::timestamptz
                       + interval '9 hours',
                   ''
            FROM orders_order o
            JOIN (VALUES
                ('submitted', 'draft', 'submitted', 0),
                ('confirmed', 'draft', 'submitted', 0),
                ('confirmed', 'submitted', 'confirmed', 1),
                ('in_progress', 'draft', 'submitted', 0),
                ('in_progress', 'submitted', 'confirmed', 1),
                ('in_progress', 'confirmed', 'in_progress', 2),
                ('fulfilled', 'draft', 'submitted', 0),
                ('fulfilled', 'submitted', 'confirmed', 1),
                ('fulfilled', 'confirmed', 'in_progress', 2),
                ('fulfilled', 'in_progress', 'fulfilled', 3),
                ('cancelled', 'draft', 'submitted', 0),
                ('cancelled', 'submitted', 'cancelled', 1)
            ) AS path(status, from_status, to_status, step) ON path.status = o.status
            WHERE o.id = ANY(%s)
            ORDER BY o.id, path.step
            """,
            [[order.pk for order in orders]],
        )


def _seed_opportunities(clients: dict, users: dict, products: dict, today: datetime.date) -> None:
    from orders.models import Opportunity

    for name, title, stage, value, probability, close_in, source, skus in DEMO_OPPORTUNITIES:
        demo = next(d for d in DEMO_CLIENTS if d.name == name)
        opportunity, created = Opportunity.objects.get_or_create(
            client=clients[name],
            title=title,
            defaults={
                "stage": stage, "value": Decimal(value), "probability": probability,
                "expected_close": today + datetime.timedelta(days=close_in), "source": source,
                "owner": users[demo.nam or TEAM_STAFF[demo.team]["nam"]],
            },
        )  # fmt: skip
        if created:
            opportunity.products.set(products[sku] for sku in skus)


# Delivery: projects, milestones, tasks, training, marketing, service cases ---------------------
#
# Projects in every status on the group heads' accounts (where the whole account team works) and
# on Padano Distribuzione, tied to each client's latest order, with timelines relative to the day
# of seeding: some milestones done, some late (one late long enough to reach the team lead), one
# project at risk (a milestone due within the week still waits for its predecessor), deadlines a
# week and a day away, so the deadline scan (projects/deadlines.py) finds real work on the demo
# book. Each project is made once with its milestones and tasks; sessions, initiatives and cases
# are looked up by a natural key, so a second run changes nothing.


@dataclass(frozen=True)
class DemoMilestone:
    name: str
    starts: int | None  # days from the day of seeding
    due: int
    completed: int | None  # None: still open
    owner: str  # a role on the account: nam, project_manager, customer_service, sales
    billable: str = "0.00"
    after: tuple[int, ...] = ()  # predecessors, by position in the project's milestones
    tasks: tuple[tuple[str, int | None, bool, str], ...] = ()  # title, due, done, assignee role


@dataclass(frozen=True)
class DemoProject:
    client: str
    name: str
    kind: str
    status: str
    starts: int
    due: int
    budget: str
    milestones: tuple[DemoMilestone, ...] = ()
    description: str = ""


M = DemoMilestone
PM, NAM, CS, SALES = "project_manager", "nam", "customer_service", "sales"

DEMO_PROJECTS: tuple[DemoProject, ...] = (
    # Late: the RFID gates should have been installed four days ago.
    DemoProject("Padano Distribuzione", "Terminali e varchi RFID nel magazzino di Cremona",
                "delivery", "active", -75, 40, "148000.00", (
        M("Sopralluogo e progetto esecutivo", -75, -60, -58, PM, "12000.00"),
        M("Consegna terminali portatili", -55, -20, -21, PM, "46000.00", (0,)),
        M("Installazione varchi RFID", -25, -4, None, PM, "62000.00", (0,), (
            ("Cablaggio baie 1-6", -6, True, PM),
            ("Taratura antenne baie 7-12", -2, False, PM),
        )),
        M("Collaudo e formazione operatori", -3, 20, None, NAM, "28000.00", (1, 2), (
            ("Calendario turni per la formazione", 6, False, NAM),
        )),
    ), "Magazzino di Cremona: 40 terminali, 12 varchi RFID, integrazione con il WMS."),
    # At risk: data migration is due in five days, but configuration is not finished.
    DemoProject("Gruppo Alimentare Padano", "Migrazione ERP di gruppo", "implementation",
                "active", -120, 150, "420000.00", (
        M("Analisi dei processi", -120, -80, -82, PM, "60000.00"),
        M("Configurazione moduli finanza", -80, 12, None, PM, "90000.00", (0,), (
            ("Piano dei conti consolidato", -10, True, PM),
            ("Regole IVA per le consociate estere", 3, False, PM),
        )),
        M("Migrazione dati anagrafici", -20, 5, None, PM, "45000.00", (1,), (
            ("Pulizia anagrafica fornitori", 1, False, SALES),
        )),
        M("Integrazione magazzini", 0, 60, None, PM, "80000.00", (1,)),
        M("Formazione utenti chiave", 50, 100, None, NAM, "35000.00", (2, 3)),
        M("Avvio in produzione", 100, 140, None, PM, "110000.00", (4,)),
    ), "Un solo ERP per la capogruppo e le consociate italiane ed estere."),
    # Planned, on track: the kick-off is a week away.
    DemoProject("Officine Meccaniche Lombarde", "MES sulle linee di Lecco", "implementation",
                "planned", 6, 200, "240000.00", (
        M("Kick-off e piano di progetto", 6, 7, None, PM, "0.00", (), (
            ("Convocare il comitato di progetto", 1, False, NAM),
        )),
        M("Pilota sulla linea 3", 10, 90, None, PM, "80000.00", (0,)),
        M("Estensione alle linee 1, 2, 4", 90, 190, None, PM, "160000.00", (1,)),
    ), "MES su quattro linee di assemblaggio; pilota sulla linea 3."),
    # Training, on track: the next session's preparation is due tomorrow.
    DemoProject("Tessile Biellese Holding", "Formazione utenti chiave ERP", "training", "active",
                -40, 45, "36000.00", (
        M("Prima sessione: acquisti e magazzino", -30, -20, -20, PM, "12000.00"),
        M("Materiali della seconda sessione", -10, 1, None, PM, "0.00", (0,)),
        M("Seconda sessione: produzione", 2, 15, None, PM, "12000.00", (1,)),
        M("Verifica finale e attestati", 16, 40, None, NAM, "12000.00", (2,)),
    ), "Tre sessioni per gli utenti chiave delle consociate."),
    # Marketing: the spring co-marketing programme with the group's stores.
    DemoProject("Mediterranea Retail Holding", "Co-marketing primavera nei punti vendita",
                "marketing", "active", -30, 90, "80000.00", (
        M("Piano media approvato", -30, -15, -16, NAM, "0.00"),
        M("Materiali punto vendita", -15, 6, None, SALES, "0.00", (0,), (
            ("Bozze espositori da banco", 2, False, SALES),
        )),
        M("Campagna digitale", 10, 60, None, NAM, "0.00", (1,)),
    ), "Campagna congiunta su cassa e sito per la linea etichette e terminali."),
    # On hold: the client froze the sites' works.
    DemoProject("Veneta Costruzioni", "Sicurezza cantieri: dotazioni e formazione", "delivery",
                "on_hold", -60, 120, "54000.00", (
        M("Consegna dotazioni DPI", -60, -30, -31, PM, "24000.00"),
        M("Formazione capicantiere", 30, 90, None, PM, "18000.00", (0,)),
    ), "Sospeso dal cliente fino alla riapertura dei cantieri di Treviso."),
    # Late by more than the escalation days: the team lead is told.
    DemoProject("Farmaceutica Tirrenica", "Tracciabilità lotti nel deposito di Pomezia",
                "delivery", "active", -90, 30, "98000.00", (
        M("Etichettatura lotti", -90, -45, -44, PM, "30000.00"),
        M("Integrazione con il sistema di qualità", -45, -10, None, PM, "38000.00", (0,), (
            ("Mappatura campi lotto/scadenza", -15, True, PM),
            ("Test di richiamo lotto", -8, False, CS),
        )),
        M("Audit finale", -5, 25, None, NAM, "30000.00", (1,)),
    ), "Tracciabilità lotto per lotto dal ricevimento alla spedizione."),
    DemoProject("Sanità Integrata", "SOC gestito per le cliniche", "service", "completed",
                -200, -20, "59400.00", (
        M("Onboarding sonde", -200, -150, -152, PM, "19800.00"),
        M("Regole di correlazione", -150, -60, -62, PM, "19800.00", (0,)),
        M("Passaggio in esercizio", -60, -20, -21, NAM, "19800.00", (1,)),
    ), "Monitoraggio 24/7 delle cliniche del gruppo."),
    DemoProject("Energia Adriatica", "Telelettura delle cabine secondarie", "delivery",
                "cancelled", -150, 60, "72000.00", (
        M("Pilota su dieci cabine", -150, -90, -95, PM, "12000.00"),
        M("Estensione a tutte le cabine", -90, 50, None, PM, "60000.00", (0,)),
    ), "Annullato: il cliente ha scelto di proseguire con il fornitore della rete."),
)  # fmt: skip

# Training sessions: (client, project name or None, topic, days from today, hour, minutes,
# remote, attendance as (contact position, attended, feedback or None)).
DEMO_TRAINING: tuple[tuple[str, str | None, str, int, int, int, bool, tuple], ...] = (
    ("Tessile Biellese Holding", "Formazione utenti chiave ERP", "ERP: acquisti e magazzino",
     -20, 9, 240, False, ((0, True, 5), (1, True, 4), (2, True, 4), (3, False, None))),
    ("Tessile Biellese Holding", "Formazione utenti chiave ERP", "ERP: produzione",
     15, 9, 240, False, ((0, True, None), (1, True, None), (4, True, None))),
    ("Tessile Biellese Holding", None, "Sicurezza informatica per tutti", -60, 14, 90, True,
     ((0, True, 3), (2, True, 5), (5, True, 4))),
    ("Gruppo Alimentare Padano", None, "Nuovo portale ordini", -12, 10, 120, True,
     ((1, True, 4), (2, True, 3), (3, True, 5))),
    ("Padano Distribuzione", "Terminali e varchi RFID nel magazzino di Cremona",
     "Terminali portatili: uso quotidiano", -18, 8, 180, False,
     ((0, True, 5), (1, True, 4), (2, False, None))),
)  # fmt: skip

# Marketing initiatives: (client, project name or None, name, channel, status, start, end,
# budget, our contribution, metric, target, result).
DEMO_INITIATIVES: tuple[tuple, ...] = (
    ("Mediterranea Retail Holding", "Co-marketing primavera nei punti vendita",
     "Espositori da banco primavera", "point_of_sale", "running", -10, 50, "30000.00",
     "15000.00", "units", "1200", "310"),
    ("Mediterranea Retail Holding", "Co-marketing primavera nei punti vendita",
     "Campagna social primavera", "social", "planned", 10, 60, "20000.00", "8000.00",
     "impressions", "500000", None),
    ("Mediterranea Retail Holding", None, "Fiera retail Rimini", "trade_show", "completed",
     -200, -197, "45000.00", "20000.00", "leads", "150", "182"),
    ("Mediterranea Retail Italia", None, "Newsletter natalizia", "email", "cancelled", -40, -10,
     "6000.00", "3000.00", "opportunities", "20", None),
    ("Tessile Biellese Holding", None, "Webinar tessile 4.0", "webinar", "completed", -90, -90,
     "4000.00", "4000.00", "attendees", "80", "96"),
)  # fmt: skip

# Service cases: (client, subject, priority, status, opened hours ago, assignee role,
# project name or None, resolution).
DEMO_CASES: tuple[tuple, ...] = (
    ("Padano Distribuzione", "Varco RFID baia 4: letture mancate", "urgent", "open", 30, CS,
     "Terminali e varchi RFID nel magazzino di Cremona", ""),
    ("Gruppo Alimentare Padano", "Errore di stampa sulle bolle di consegna", "high", "new", 20,
     CS, None, ""),
    ("Officine Meccaniche Lombarde", "Licenze CRM non attivate", "normal", "waiting", 60, CS,
     None, ""),
    ("Mediterranea Retail Holding", "Terminale cassa bloccato all'avvio", "normal", "open", 6,
     CS, None, ""),
    ("Sanità Integrata", "Allarmi SOC duplicati", "low", "new", 10, CS,
     "SOC gestito per le cliniche", ""),
    ("Farmaceutica Tirrenica", "Etichette lotto illeggibili", "high", "resolved", 120, CS,
     "Tracciabilità lotti nel deposito di Pomezia", "Sostituito il ribbon; stampante ritarata."),
    ("Tessile Biellese Holding", "Accesso al corso e-learning", "low", "closed", 400, CS, None,
     "Credenziali reinviate al referente."),
    ("Energia Adriatica", "Fattura elettronica scartata da SDI", "normal", "new", 2, None, None,
     ""),
)  # fmt: skip


def _seed_projects() -> None:
    from clients.models import Client
    from orders.models import Order
    from projects.models import Milestone, MilestoneDependency, Project, Task

    today = timezone.localdate()
    demo_of = {demo.name: demo for demo in DEMO_CLIENTS}
    names = {p.client for p in DEMO_PROJECTS} | {row[0] for row in DEMO_TRAINING}
    names |= {row[0] for row in DEMO_INITIATIVES} | {row[0] for row in DEMO_CASES}
    clients = {c.name: c for c in Client.objects.filter(name__in=names)}
    users = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])
    }

    def person(client_name: str, role: str) -> User:
        demo = demo_of[client_name]
        if role == NAM:
            return users[demo.nam or TEAM_STAFF[demo.team]["nam"]]
        return users[TEAM_STAFF[demo.team][role]]

    # The order each project delivers: the client's latest order that went ahead.
    latest: dict[int, Order] = {}
    for order in (
        Order.objects.filter(
            client__in=clients.values(), status__in=["confirmed", "in_progress", "fulfilled"]
        )
        .order_by("client_id", "-order_date", "-pk")
        .distinct("client_id")
    ):
        latest[order.client_id] = order

    def day(offset: int | None) -> datetime.date | None:
        return None if offset is None else today + datetime.timedelta(days=offset)

    existing = set(
        Project.objects.filter(client__in=clients.values()).values_list("client__name", "name")
    )
    projects: dict[str, Project] = {
        p.name: p
        for p in Project.objects.filter(
            client__in=clients.values(), name__in=[d.name for d in DEMO_PROJECTS]
        )
    }
    for demo in DEMO_PROJECTS:
        if (demo.client, demo.name) in existing:
            continue  # made once, with its plan
        client = clients[demo.client]
        project = Project.objects.create(
            client=client, order=latest.get(client.pk), name=demo.name, kind=demo.kind,
            status=demo.status, manager=person(demo.client, PM), starts_on=day(demo.starts),
            due_on=day(demo.due), budget=Decimal(demo.budget), currency="EUR",
            description=demo.description,
        )  # fmt: skip
        projects[demo.name] = project
        milestones = Milestone.objects.bulk_create(
            Milestone(
                project=project, name=m.name, starts_on=day(m.starts), due_on=day(m.due),
                completed_on=day(m.completed), owner=person(demo.client, m.owner),
                billable_amount=Decimal(m.billable), position=position,
            )
            for position, m in enumerate(demo.milestones)
        )  # fmt: skip
        MilestoneDependency.objects.bulk_create(
            MilestoneDependency(milestone=milestones[position], predecessor=milestones[before])
            for position, m in enumerate(demo.milestones)
            for before in m.after
        )
        done_at = timezone.now() - datetime.timedelta(days=1)
        Task.objects.bulk_create(
            Task(
                project=project, milestone=milestones[position], title=title,
                assignee=person(demo.client, role), due_on=day(due),
                done_at=done_at if done else None,
            )
            for position, m in enumerate(demo.milestones)
            for title, due, done, role in m.tasks
        )  # fmt: skip

    _seed_training(clients, projects, person, today)
    _seed_initiatives(clients, projects, day)
    _seed_cases(clients, projects, person, latest)


def _seed_training(clients: dict, projects: dict, person, today: datetime.date) -> None:
    from clients.models import Contact, Site
    from projects.models import TrainingAttendance, TrainingSession

    existing = set(
        TrainingSession.objects.filter(client__in=clients.values()).values_list(
            "client__name", "topic"
        )
    )
    headquarters = {
        site.client_id: site
        for site in Site.objects.filter(client__in=clients.values(), kind="headquarters")
    }
    for client_name, project, topic, days, hour, minutes, remote, attendance in DEMO_TRAINING:
        if (client_name, topic) in existing:
            continue
        client = clients[client_name]
        site = None if remote else headquarters.get(client.pk)
        starts = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(hour))
        )
        session = TrainingSession.objects.create(
            client=client, project=projects.get(project) if project else None, topic=topic,
            starts_at=starts, duration_minutes=minutes, site=site, remote=site is None,
            trainer=person(client_name, PM), notes="Materiali condivisi sul portale del cliente.",
        )  # fmt: skip
        contacts = list(Contact.objects.filter(client=client).order_by("pk"))
        TrainingAttendance.objects.bulk_create(
            TrainingAttendance(
                session=session, contact=contacts[position], attended=attended,
                feedback_score=feedback,
            )
            for position, attended, feedback in attendance
            if position < len(contacts)
        )  # fmt: skip


def _seed_initiatives(clients: dict, projects: dict, day) -> None:
    from projects.models import MarketingInitiative

    for (client_name, project, name, channel, status, starts, ends, budget, ours, metric,
         target, result) in DEMO_INITIATIVES:  # fmt: skip
        MarketingInitiative.objects.get_or_create(
            client=clients[client_name],
            name=name,
            defaults={
                "project": projects.get(project) if project else None,
                "channel": channel, "status": status, "starts_on": day(starts),
                "ends_on": day(ends), "budget": Decimal(budget), "our_contribution": Decimal(ours),
                "currency": "EUR", "target_metric": metric,
                "target_value": Decimal(target) if target else None,
                "result_value": Decimal(result) if result else None,
            },
        )  # fmt: skip


def _seed_cases(clients: dict, projects: dict, person, latest: dict) -> None:
    from clients.models import Contact
    from projects.models import ServiceCase
    from projects.services import sla_due

    existing = set(
        ServiceCase.objects.filter(client__in=clients.values()).values_list(
            "client__name", "subject"
        )
    )
    now = timezone.now().replace(microsecond=0)
    first_contact = {
        c.client_id: c
        for c in Contact.objects.filter(client__in=clients.values())
        .order_by("client_id", "pk")
        .distinct("client_id")
    }
    new = []
    for (
        client_name,
        subject,
        priority,
        status,
        hours_ago,
        assignee,
        project,
        resolution,
    ) in DEMO_CASES:
        if (client_name, subject) in existing:
            continue
        client = clients[client_name]
        opened = now - datetime.timedelta(hours=hours_ago)
        closed = status in ("resolved", "closed")
        new.append(ServiceCase(
            client=client, contact=first_contact.get(client.pk), subject=subject,
            priority=priority, status=status, opened_at=opened,
            sla_due=sla_due(client=client, priority=priority, at=opened),
            assignee=person(client_name, assignee) if assignee else None,
            project=projects.get(project) if project else None,
            order=latest.get(client.pk) if project is None else None,
            resolution=resolution, resolved_at=opened + datetime.timedelta(hours=6) if closed
            else None,
        ))  # fmt: skip
    ServiceCase.objects.bulk_create(new)


# Billing: a year of invoices on the demo orders and milestones -------------------------------
#
# Most invoices are clean: each fulfilled (or partly delivered) order of the last year is invoiced
# a week or two after it was placed, at the order's prices, for what was delivered; completed
# billable milestones are invoiced a few days after completion. Older invoices are paid, a few
# are overdue or partially paid, a few were partly credited (goods returned). On top of that
# clean book, BILLING_ERRORS puts one realistic mistake of every kind the checks look for
# (billing/checks.py) on drafts waiting in finance's review queue and on a few open invoices
# issued before the checks ran. The book is written in bulk (drafts with their lines first, then
# issued with gapless numbers per series and year, the InvoiceCounter rows kept equal to the
# last number given out), so the immutability triggers are never bypassed. It is made once;
# every seed then runs the checks over the demo's draft and open invoices (an upsert).

BILLING_SEED = 20260601

# The demo's deliberate errors: (code, what it shows). The codes are ours, for the notes column
# of each invoice; the rule codes are billing/checks.py's.
BILLING_ERRORS: tuple[tuple[str, str], ...] = (
    ("wrong_price", "Unit price above the contract price and the order price."),
    ("wrong_discount", "No discount although the contract gives one."),
    ("over_billing", "Bills again quantities an earlier invoice already billed."),
    ("beyond_delivered", "Bills the whole order while only half of it was delivered."),
    ("early_milestone", "Bills a milestone that is not completed yet."),
    ("expired_contract", "Dated after the contract expired."),
    ("terminated_contract", "On a contract that was terminated."),
    ("over_cap", "Takes cumulative billing on the contract over its cap."),
    ("wrong_due_date", "Due in 30 days although the contract's payment terms are longer."),
    ("arithmetic", "Line and totals do not add up (a hand-typed amount)."),
    ("duplicate", "The same invoice entered twice."),
    ("outside_group", "Billed to a company outside the ordering client's group."),
    ("missing_fiscal_data", "Billed to a company without a VAT number."),
    ("unconfirmed_order", "Bills an order that is only submitted."),
)


def _seed_billing() -> None:
    from billing.models import Invoice

    clients = [d.name for d in DEMO_CLIENTS]
    if not Invoice.objects.filter(client__name__in=clients).exists():
        _DemoBilling().build()
    _seed_seller_profile()
    _seed_einvoices()
    _run_demo_checks(clients)


# E-invoicing: our fiscal profile and one issued document of every FatturaPA kind -------------
#
# The seller (billing.SellerProfile, the CedentePrestatore and transmitter of every file) and a
# few orders taken, delivered, invoiced and issued today through the services, one per kind the
# FatturaPA export has to get right: several VAT rates on one invoice, exempt and excluded lines
# with their nature codes (and the virtual stamp duty they bring), a credit note (TD04) of a
# multi-rate invoice, an intra-EU client (goods N3.2, services N2.1) and a split-payment client
# (EsigibilitaIVA S). Each is found by its order's client PO, so it is made once; all of them
# pass the invoice checks and the exchange system's (SdI) checks, so finance can export them.

DEMO_SELLER_VAT = partita_iva(9087651, 15)  # a Milan tax office number, valid for python-stdnum
DEMO_SELLER: dict[str, object] = {
    "name": "Key Account Solutions S.p.A.",
    "vat_number": DEMO_SELLER_VAT,
    "tax_code": DEMO_SELLER_VAT,
    "regime_fiscale": "RF01",
    "street": "Via Melchiorre Gioia",
    "street_number": "8",
    "postal_code": "20124",
    "city": "Milano",
    "province": "MI",
    "country": "IT",
    "transmitter_country": "IT",
    "transmitter_code": DEMO_SELLER_VAT,
    "rea_office": "MI",
    "rea_number": "2104567",
    "share_capital": Decimal("500000.00"),
    "email": "fatturazione@key-account-solutions.example",
    "phone": "0287654321",
}


@dataclass(frozen=True)
class DemoEInvoice:
    kind: str  # the client PO of its order: DEMO-FE-<kind>
    client: str
    title: str
    items: tuple[tuple[str, int], ...]  # SKU, quantity (delivered in full)
    # Lines whose VAT treatment differs from the product's: SKU -> (rate, nature).
    vat: tuple[tuple[str, str, str], ...] = ()
    # Lines billed without an order line: (description, quantity, price, rate, nature).
    extra: tuple[tuple[str, str, str, str, str], ...] = ()
    # Credit note of some of the invoice's lines: (SKU, quantity), and why.
    credit: tuple[tuple[str, int], ...] = ()
    credit_reason: str = ""


DEMO_EINVOICES: tuple[DemoEInvoice, ...] = (
    # A sales convention: workshops (22%), catering and rooms (10%), printed manuals (4%); ten
    # covers were not served, so part of the catering is credited (a multi-rate TD04).
    DemoEInvoice("several-rates", "Tessile Biellese Holding", "Convention rete vendita",
                 (("TRN-KEY-01", 2), ("HOS-CAT-01", 60), ("HOS-HTL-01", 12), ("PUB-MAN-01", 20)),
                 credit=(("HOS-CAT-01", 10), ("PUB-MAN-01", 2)),
                 credit_reason="Dieci coperti non serviti e due manuali resi."),
    # Financed training (exempt, N4) plus the trainers' travel advanced in the client's name
    # (excluded, art. 15: N1); the exempt amount is over 77.47, so virtual stamp duty is due.
    DemoEInvoice("exempt", "Farmaceutica Tirrenica", "Piano formativo finanziato",
                 (("TRN-FIN-01", 8), ("TRN-ERP-B", 2)),
                 extra=(("Spese di trasferta anticipate in nome e per conto del cliente "
                         "(art. 15 DPR 633/72)", "1", "236.40", "0", "N1"),)),
    # An intra-EU client: goods are non-taxable supplies (art. 41 DL 331/93, N3.2), services
    # are outside the scope of Italian VAT (art. 7-ter DPR 633/72, N2.1).
    DemoEInvoice("foreign", "OML France", "Stampanti etichette per l'atelier di Grenoble",
                 (("HW-PRN-LB", 2), ("SRV-INST-D", 2)),
                 vat=(("HW-PRN-LB", "0", "N3.2"), ("SRV-INST-D", "0", "N2.1"))),
    # The grid company pays the VAT to the State (split payment): EsigibilitaIVA S.
    DemoEInvoice("split-payment", "Energia Adriatica Reti", "Contatori per le cabine di Chieti",
                 (("ENM-MTR-01", 10), ("ENM-GTW-01", 2))),
)  # fmt: skip


def _seed_seller_profile() -> None:
    """Our fiscal profile, made once (then edited in the admin, never overwritten here)."""
    from billing.models import SellerProfile

    if SellerProfile.objects.exists():
        return
    seller = SellerProfile(**DEMO_SELLER)
    seller.full_clean()
    seller.save()


def _seed_einvoices() -> None:
    from billing import services as billing
    from billing.models import Invoice, InvoiceLine
    from clients.models import Client
    from orders import services as orders
    from orders.models import Order, OrderLine, Product

    made = set(
        Order.objects.filter(client_po__startswith="DEMO-FE-").values_list("client_po", flat=True)
    )
    wanted = [entry for entry in DEMO_EINVOICES if f"DEMO-FE-{entry.kind}" not in made]
    if not wanted:
        return
    today = timezone.localdate()
    finance = User.objects.get(username="anna.finance")
    users = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])
    }
    clients = {c.name: c for c in Client.objects.filter(name__in=[e.client for e in wanted])}
    skus = {sku for entry in wanted for sku, _quantity in entry.items}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    for entry in wanted:
        demo = next(d for d in DEMO_CLIENTS if d.name == entry.client)
        client = clients[entry.client]
        if demo.split_payment and not client.split_payment:
            # A book seeded before split payment existed: the flag goes with its invoice.
            Client.objects.filter(pk=client.pk).update(split_payment=True)
        nam = users[demo.nam or TEAM_STAFF[demo.team]["nam"]]
        ordered_on = today - datetime.timedelta(days=18)
        order = orders.order_create(by=nam, order=Order(
            client=client, contract=orders.applicable_contract(client=client, on=ordered_on),
            order_date=ordered_on, requested_delivery=ordered_on + datetime.timedelta(days=10),
            client_po=f"DEMO-FE-{entry.kind}", notes=entry.title,
        ))  # fmt: skip
        for sku, quantity in entry.items:
            orders.order_line_save(
                by=nam,
                line=OrderLine(order=order, product=products[sku], quantity=Decimal(quantity)),
            )
        for status in ("submitted", "confirmed"):
            order = orders.order_transition(by=nam, order=order, to=status)
        for line in order.lines.order_by("pk"):
            orders.order_record_delivery(by=nam, line=line, delivered_quantity=line.quantity)

        invoice = billing.invoice_from_order(by=finance, order=order)
        treatment = {sku: (Decimal(rate), nature) for sku, rate, nature in entry.vat}
        for line in invoice.lines.select_related("product").order_by("position"):
            if line.product.sku in treatment:
                line.vat_rate, line.vat_nature = treatment[line.product.sku]
                billing.invoice_line_save(by=finance, line=line)
        for description, quantity, price, rate, nature in entry.extra:
            billing.invoice_line_save(by=finance, line=InvoiceLine(
                invoice=invoice, description=description, quantity=Decimal(quantity),
                unit_price=Decimal(price), discount=Decimal("0"), vat_rate=Decimal(rate),
                vat_nature=nature,
            ))  # fmt: skip
        invoice = billing.invoice_issue(by=finance, invoice=invoice, issue_date=today)
        if not entry.credit:
            continue
        by_sku = {line.product.sku: line for line in invoice.lines.select_related("product")
                  if line.product_id}  # fmt: skip
        note = billing.credit_note_create(
            by=finance, invoice=invoice, notes=entry.credit_reason,
            lines=[billing.CreditLine(by_sku[sku], quantity=Decimal(quantity))
                   for sku, quantity in entry.credit],
        )  # fmt: skip
        billing.invoice_issue(by=finance, invoice=Invoice.objects.get(pk=note.pk),
                              issue_date=today)  # fmt: skip


def _run_demo_checks(client_names: list[str]) -> None:
    """Run the invoice checks over the demo's draft and open invoices, when the rules engine is
    installed (billing/checks.py); an upsert, so seeding twice changes nothing."""
    import importlib.util

    from billing.models import OPEN_STATUSES, Invoice

    if importlib.util.find_spec("billing.checks") is None:
        return
    from billing import checks

    ids = list(
        Invoice.objects.filter(
            client__name__in=client_names, status__in=("draft", *OPEN_STATUSES)
        ).values_list("pk", flat=True)
    )
    checks.check_invoices(ids)


class _DemoBilling:
    """Builds the demo invoices in memory, then writes them in a handful of bulk statements."""

    def __init__(self) -> None:
        from billing.models import Invoice, InvoiceLine

        self.rng = random.Random(BILLING_SEED)  # noqa: S311 - demo data, not security
        self.today = timezone.localdate()
        self.finance = User.objects.get(username="anna.finance")
        # Each document: (invoice, lines, payments as [(amount, day)], final status).
        self.documents: list[tuple[Invoice, list[InvoiceLine], list, str]] = []

    # Building blocks ------------------------------------------------------------------------

    def _invoice(self, order, *, day: datetime.date, client=None, kind: str = "invoice",
                 credits=None, notes: str = "", terms: int | None = None):  # fmt: skip
        from billing.models import SERIES_BY_KIND, Invoice

        contract = order.contract if order is not None else None
        if terms is None:
            terms = contract.payment_terms_days if contract else 30
        return Invoice(
            kind=kind, client=client or order.client, order=order, contract=contract,
            credits=credits, series=SERIES_BY_KIND[kind], issue_date=day,
            due_date=day if kind == "credit_note" else day + datetime.timedelta(days=terms),
            currency="EUR", notes=notes, created_by=self.finance,
        )  # fmt: skip

    @staticmethod
    def _line(order_line, quantity: Decimal, **changes: object):
        from billing.models import InvoiceLine

        line = InvoiceLine(
            order_line=order_line, product=order_line.product,
            description=order_line.description or order_line.product.name, quantity=quantity,
            unit_price=order_line.unit_price, discount=order_line.discount,
            vat_rate=order_line.vat_rate, vat_nature=order_line.vat_nature,
        )  # fmt: skip
        for name, value in changes.items():
            setattr(line, name, value)
        line.compute_amounts()
        return line

    @staticmethod
    def _milestone_line(milestone):
        from billing.models import InvoiceLine
        from billing.services import MILESTONE_VAT_RATE

        line = InvoiceLine(
            milestone=milestone, description=f"{milestone.project.name}: {milestone.name}",
            quantity=Decimal("1"), unit_price=milestone.billable_amount, discount=Decimal("0"),
            vat_rate=MILESTONE_VAT_RATE,
        )  # fmt: skip
        line.compute_amounts()
        return line

    def _add(self, invoice, lines: list, status: str, payments: list | None = None) -> None:
        for position, line in enumerate(lines, start=1):
            line.position = position
        invoice.net_total = sum((line.net_amount for line in lines), Decimal("0.00"))
        invoice.vat_total = sum((line.vat_amount for line in lines), Decimal("0.00"))
        invoice.gross_total = invoice.net_total + invoice.vat_total
        self.documents.append((invoice, lines, payments or [], status))

    def _settled(self, invoice) -> tuple[str, list]:
        """How far a clean invoice is paid: old ones paid (a few overdue or partly paid), recent
        ones still open."""
        roll = self.rng.random()
        gross = invoice.gross_total
        if invoice.due_date >= self.today:
            if roll < 0.15:
                return "partially_paid", [
                    (
                        (gross * Decimal("0.4")).quantize(Decimal("0.01")),
                        invoice.issue_date + datetime.timedelta(days=20),
                    )
                ]
            return "issued", []
        if roll < 0.07:
            return "issued", []  # overdue, nothing paid
        if roll < 0.12:
            return "partially_paid", [
                (
                    (gross * Decimal("0.5")).quantize(Decimal("0.01")),
                    invoice.due_date - datetime.timedelta(days=2),
                )
            ]
        paid_on = min(
            self.today, invoice.due_date + datetime.timedelta(days=self.rng.randint(-10, 8))
        )
        return "paid", [(gross, paid_on)]

    # The book -------------------------------------------------------------------------------

    def build(self) -> None:
        from orders.models import Order
        from projects.models import Milestone

        start = self.today - datetime.timedelta(days=365)
        orders = list(
            Order.objects.filter(order_date__gte=start, status__in=("fulfilled", "in_progress"),
                                 client__name__in=[d.name for d in DEMO_CLIENTS])
            .select_related("contract", "client")
            .prefetch_related("lines__product")
            .order_by("order_date", "pk")
        )  # fmt: skip
        clean = []
        for order in orders:
            day = order.order_date + datetime.timedelta(days=self.rng.randint(5, 16))
            if day > self.today:
                continue
            lines = [
                self._line(line, line.delivered_quantity)
                for line in order.lines.all()
                if line.delivered_quantity > 0
            ]
            if lines:
                clean.append((order, day, lines))
        self._errors(clean)
        for order, day, lines in clean:
            invoice = self._invoice(order, day=day)
            self._add(invoice, lines, "issued")
        milestones = Milestone.objects.filter(
            completed_on__isnull=False, completed_on__gte=start, billable_amount__gt=0,
            project__order__isnull=False,
        ).select_related("project__order__contract", "project__order__client")  # fmt: skip
        for milestone in milestones.order_by("completed_on", "pk"):
            day = milestone.completed_on + datetime.timedelta(days=3)
            if day > self.today:
                continue
            order = milestone.project.order
            invoice = self._invoice(order, day=day, client=milestone.project.client)
            self._add(invoice, [self._milestone_line(milestone)], "issued")
        self._settle_clean()
        self._credit_notes()
        self._write()

    def _settle_clean(self) -> None:
        """Payments of the clean invoices; the last few days' invoices are still drafts."""
        settled = []
        for invoice, lines, payments, status in self.documents:
            if status != "issued" or invoice.notes:
                settled.append((invoice, lines, payments, status))
            elif (self.today - invoice.issue_date).days < 4:
                settled.append((invoice, lines, [], "draft"))
            else:
                status, payments = self._settled(invoice)
                settled.append((invoice, lines, payments, status))
        self.documents = settled

    def _credit_notes(self) -> None:
        """Goods returned: a paid invoice in every fifty credited for one unit of a line."""
        paid = [doc for doc in self.documents
                if doc[3] == "paid" and doc[0].kind == "invoice" and doc[1][0].order_line
                and doc[1][0].quantity > 1][::50]  # fmt: skip
        for original, lines, payments, _status in paid:
            source = lines[0]
            day = original.issue_date + datetime.timedelta(days=12)
            if day > self.today:
                continue
            note = self._invoice(original.order, day=day, client=original.client,
                                 kind="credit_note", credits=original,
                                 notes="Reso di un'unità danneggiata.")  # fmt: skip
            line = self._line(source.order_line, Decimal("1"), unit_price=source.unit_price,
                              discount=source.discount)  # fmt: skip
            self._add(note, [line], "issued")
            # The client paid the invoice net of the credit note.
            payments[:] = [(original.gross_total - note.gross_total, payments[0][1])]

    def _errors(self, clean: list) -> None:
        """One realistic mistake of every kind (BILLING_ERRORS), mostly on drafts in the review
        queue; `clean` loses the orders the mistakes are made on."""
        from clients.models import Client
        from orders.models import Contract, Order
        from projects.models import Milestone

        def note(code: str) -> str:
            return f"[demo: {code}] " + dict(BILLING_ERRORS)[code]

        def take(predicate) -> tuple:
            for index, item in enumerate(clean):
                if predicate(item):
                    return clean.pop(index)
            raise LookupError("no order fits this demo error")

        recent = self.today - datetime.timedelta(days=60)

        def priced(item) -> bool:
            order, day, lines = item
            return (
                order.contract_id is not None
                and day >= recent
                and any(line.order_line.contract_price for line in lines)
            )

        # Wrong price: an issued open invoice at 8% above the agreed price.
        order, day, lines = take(priced)
        for line in lines:
            if line.order_line.contract_price:
                line.unit_price = (line.unit_price * Decimal("1.08")).quantize(Decimal("0.01"))
                line.compute_amounts()
                break
        self._add(self._invoice(order, day=day, notes=note("wrong_price")), lines, "issued")

        # No discount on a list-priced line of a contract that gives a default discount.
        order, day, lines = take(
            lambda item: (
                item[0].contract_id
                and item[1] >= recent
                and any(
                    not line.order_line.contract_price and line.discount > 0 for line in item[2]
                )
            )
        )
        for line in lines:
            if not line.order_line.contract_price and line.discount > 0:
                line.discount = Decimal("0")
                line.compute_amounts()
                break
        self._add(self._invoice(order, day=self.today, notes=note("wrong_discount")), lines,
                  "draft")  # fmt: skip

        # Over-billing: the order is invoiced (clean, paid), then billed again in a draft.
        order, day, lines = take(lambda item: item[1] < recent)
        self._add(self._invoice(order, day=day), lines, "paid",
                  [(None, day + datetime.timedelta(days=30))])  # fmt: skip
        again = [self._line(line.order_line, line.quantity) for line in lines]
        self._add(self._invoice(order, day=self.today, notes=note("over_billing")), again,
                  "draft")  # fmt: skip

        # Beyond delivered: an order in progress billed in full.
        in_progress = next(
            (order for order in Order.objects.filter(status="in_progress")
             .select_related("contract", "client").prefetch_related("lines__product")
             .order_by("pk")
             if any(line.delivered_quantity < line.quantity for line in order.lines.all())),
            None,
        )  # fmt: skip
        if in_progress is not None:
            clean[:] = [item for item in clean if item[0].pk != in_progress.pk]
            full = [self._line(line, line.quantity) for line in in_progress.lines.all()]
            self._add(self._invoice(in_progress, day=self.today, notes=note("beyond_delivered")),
                      full, "draft")  # fmt: skip

        # Early milestone: billed while still open.
        milestone = (Milestone.objects.filter(completed_on__isnull=True, billable_amount__gt=0,
                                              project__order__isnull=False,
                                              project__status="active")
                     .select_related("project__order__contract", "project__client")
                     .order_by("due_on", "pk").first())  # fmt: skip
        if milestone is not None:
            invoice = self._invoice(milestone.project.order, day=self.today,
                                    client=milestone.project.client,
                                    notes=note("early_milestone"))  # fmt: skip
            self._add(invoice, [self._milestone_line(milestone)], "draft")

        # Expired and terminated contracts: billed today on an old order of each.
        for code, number in (("expired_contract", "CQ-VEN-2023"),
                             ("terminated_contract", "CQ-SAN-2023")):  # fmt: skip
            order, day, lines = take(
                lambda item, n=number: (
                    item[0].contract_id is not None and item[0].contract.number == n
                )
            )
            self._add(self._invoice(order, day=self.today, notes=note(code)), lines, "draft")

        # Wrong due date: 30 days on a 90-day contract, issued and open.
        order, day, lines = take(
            lambda item: (
                item[0].contract_id is not None
                and item[0].contract.payment_terms_days == 90
                and item[1] >= recent
            )
        )
        self._add(self._invoice(order, day=day, terms=30, notes=note("wrong_due_date")), lines,
                  "issued")  # fmt: skip

        # Arithmetic: a hand-typed line amount 10 euro off (after the totals were summed, so
        # the header does not match its lines either).
        order, day, lines = take(lambda item: item[1] >= recent)
        self._add(self._invoice(order, day=self.today, notes=note("arithmetic")), lines, "draft")
        lines[0].net_amount += Decimal("10.00")

        # Duplicate: an issued invoice entered again as a draft the next day.
        order, day, lines = take(lambda item: item[1] >= recent and item[1] < self.today)
        self._add(self._invoice(order, day=day), lines, "issued")
        copies = [self._line(line.order_line, line.quantity) for line in lines]
        self._add(self._invoice(order, day=day + datetime.timedelta(days=1),
                                notes=note("duplicate")), copies, "draft")  # fmt: skip

        # Billed to a company of another group, and to one without a VAT number.
        order, day, lines = take(lambda item: item[0].client.name == "Padano Distribuzione")
        other = Client.objects.get(name="Sanità Integrata")
        self._add(self._invoice(order, day=self.today, client=other, notes=note("outside_group")),
                  lines, "draft")  # fmt: skip
        order, day, lines = take(lambda item: item[0].client.parent_id is not None)
        foreign = Client.objects.get(name="Adriatica Energija")
        self._add(self._invoice(order, day=self.today, client=foreign,
                                notes=note("missing_fiscal_data")), lines, "draft")  # fmt: skip

        # Unconfirmed: a submitted order invoiced straight away.
        submitted = (Order.objects.filter(status="submitted")
                     .select_related("contract", "client").prefetch_related("lines__product")
                     .order_by("pk").first())  # fmt: skip
        if submitted is not None:
            lines = [self._line(line, line.quantity) for line in submitted.lines.all()]
            self._add(self._invoice(submitted, day=self.today, notes=note("unconfirmed_order")),
                      lines, "draft")  # fmt: skip

        # Over the cap: Lanificio's contract cap is set just under what this year billed on it,
        # so the latest invoice (issued, open) takes cumulative billing over it.
        contract = Contract.objects.get(number="CQ-LVS-2025")
        on_contract = [item for item in clean if item[0].contract_id == contract.pk]
        if on_contract:
            order, day, lines = on_contract[-1]
            clean.remove(on_contract[-1])
            before = sum(line.net_amount for item in on_contract[:-1] for line in item[2])
            last = sum(line.net_amount for line in lines)
            cap = (before + last * Decimal("0.3")).quantize(Decimal("1000"))
            Contract.objects.filter(pk=contract.pk).update(billing_cap=max(cap, Decimal("1000")))
            self._add(self._invoice(order, day=day, notes=note("over_cap")), lines, "issued")

    # Writing --------------------------------------------------------------------------------

    def _write(self) -> None:
        from billing.models import Invoice, InvoiceCounter, InvoiceLine, Payment

        documents = sorted(self.documents, key=lambda doc: (doc[0].issue_date, doc[0].kind))
        # Credit notes point at their invoice: invoices first.
        invoices = [doc[0] for doc in documents]
        originals = [doc for doc in documents if doc[0].kind == "invoice"]
        notes = [doc for doc in documents if doc[0].kind == "credit_note"]
        Invoice.objects.bulk_create([doc[0] for doc in originals], batch_size=500)
        for doc in notes:
            doc[0].credits_id = doc[0].credits.pk
        Invoice.objects.bulk_create([doc[0] for doc in notes], batch_size=500)
        lines = []
        for invoice, invoice_lines, _payments, _status in documents:
            for line in invoice_lines:
                line.invoice = invoice
                lines.append(line)
        InvoiceLine.objects.bulk_create(lines, batch_size=1000)

        # Issue: numbers 1..N per series and year in issue-date order, after any existing ones.
        counters = {(c.series, c.year): c.last_number for c in InvoiceCounter.objects.all()}
        issued_at = timezone.now()
        payments = []
        for invoice, _lines, paid, status in documents:
            if status == "draft":
                continue
            key = (invoice.series, invoice.issue_date.year)
            counters[key] = counters.get(key, 0) + 1
            invoice.number, invoice.year = counters[key], invoice.issue_date.year
            invoice.status, invoice.issued_by, invoice.issued_at = status, self.finance, issued_at
            for amount, day in paid:
                amount = invoice.gross_total if amount is None else amount
                invoice.amount_paid += amount
                payments.append(Payment(invoice=invoice, amount=amount, paid_on=day,
                                        reference=f"CRO {invoice.series}{invoice.number:05d}",
                                        recorded_by=self.finance))  # fmt: skip
        Invoice.objects.bulk_update(
            [invoice for invoice in invoices if invoice.number],
            ["status", "number", "year", "issued_by", "issued_at", "amount_paid"],
            batch_size=500,
        )
        Payment.objects.bulk_create(payments, batch_size=1000)
        for (series, year), last in counters.items():
            InvoiceCounter.objects.update_or_create(
                series=series, year=year, defaults={"last_number": last}
            )
