"""LongSelect writes the markup Django's Select writes, in one pass."""

from django import forms

from accounts_crm.widgets import LongSelect


def _field(widget: type[forms.Select]) -> forms.Form:
    class Form(forms.Form):
        client = forms.TypedChoiceField(
            choices=[("", "All"), (1, "Rossi & Figli"), (2, '<b>"Bianchi"</b>')],
            coerce=int,
            required=False,
            widget=widget(attrs={"class": "form-select"}),
        )

    return Form


def test_it_selects_the_value_and_escapes_the_labels() -> None:
    html = str(_field(LongSelect)({"client": "2"})["client"])
    assert '<select name="client" class="form-select" id="id_client">' in html
    assert '<option value="">All</option>' in html
    assert '<option value="1">Rossi &amp; Figli</option>' in html
    assert '<option value="2" selected>&lt;b&gt;&quot;Bianchi&quot;&lt;/b&gt;</option>' in html


def test_it_offers_what_djangos_select_offers() -> None:
    def options(html: str) -> list[str]:
        return [part.split(">")[0] for part in html.split("<option")[1:]]

    for data in ({}, {"client": "1"}, {"client": ""}):
        ours = str(_field(LongSelect)(data)["client"])
        django = str(_field(forms.Select)(data)["client"])
        assert options(ours) == options(django)
        assert ours.count("selected") == django.count("selected")


def test_it_leaves_grouped_choices_to_django() -> None:
    widget = LongSelect(choices=[("North", [(1, "Milano"), (2, "Torino")])])
    html = widget.render("city", 2)
    assert '<optgroup label="North">' in html
    assert 'value="2" selected' in html
