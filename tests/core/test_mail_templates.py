"""An admin's mail template is checked when saved: it reaches only its placeholders."""

import pytest

from core.mail_templates import DEFAULTS, TemplateRefused, check_template


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ ''.__class__.__mro__ }}", "may not do (access to attribute '__class__'"),
        ("{{ naam.__init__.__globals__ }}", "may not do (access to attribute '__init__'"),
        ("{% for i in range(10**9) %}x{% endfor %}", "may not do (Range too big"),
        ("Beste {{ naam }", "cannot be read as a template (line 1)"),
        ("Beste {{ naam }},\n\n{% if %}", "(line 3)"),
        ("Beste {{ achternaam }} {{ salaris }}", "names salaris, which this message does not have"),
        ("x" * 20_001, "longer than 20,000 characters"),
    ],
)
def test_a_template_that_cannot_work_is_refused_with_the_reason(body: str, words: str) -> None:
    with pytest.raises(TemplateRefused, match=None) as caught:
        check_template("welcome", "Welkom", body)
    assert caught.value.code == "invalid-template"
    assert words in caught.value.message


def test_instroom_s_own_texts_pass_their_own_check() -> None:
    for (kind, _language), (subject, body) in DEFAULTS.items():
        check_template(kind, subject, body)


def test_a_refusal_reads_in_dutch_too() -> None:
    with pytest.raises(TemplateRefused) as caught:
        check_template("updated", "Bijgewerkt", "{{ activatielink }}")
    assert caught.value.text("nl") == (
        "Het sjabloon noemt activatielink, dat dit bericht niet heeft. Het kan gebruiken: naam, "
        "voornaam, achternaam, wijzigingen, organisatie."
    )
