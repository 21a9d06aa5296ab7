"""An admin's mail template is checked when saved: it reaches only its placeholders."""

import time

import pytest

from core.mail_templates import (
    DEFAULTS,
    RENDER_SECONDS,
    TemplateRefused,
    check_template,
    fill_message,
)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ ''.__class__.__mro__ }}", "tries something a mail template may not do."),
        ("{{ naam.__init__.__globals__ }}", "tries something a mail template may not do."),
        ("{% for i in range(10**9) %}x{% endfor %}", "uses the number 1,000,000,000, larger"),
        ("Beste {{ naam }", "cannot be read as a template on line 1."),
        ("Beste {{ naam }},\n\n{% if %}", "on line 3."),
        # Where the brace was opened, not where the text ended.
        ("Hoi {{ voornaam\n\n{{ activatielink }}", "on line 1."),
        ("Hoi {{ voornaam\n\n", "opens {{ or {% on line 1 without closing it"),
        ("{% if voornaam %}\nHoi\n", "starts {% if %} on line 1 but never ends it"),
        ("{% foo %}", "uses {% foo %} on line 1, which a mail template does not know"),
        ("{{ 1 / 0 }}", "stops with an error when it is filled in"),
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


def test_a_broken_template_is_explained_in_dutch_without_jinja_s_english() -> None:
    with pytest.raises(TemplateRefused) as caught:
        check_template("welcome", "Welkom", "Hoi {{ voornaam\n\n")
    assert caught.value.text("nl") == (
        "In de tekst staat op regel 1 een {{ of {% die niet gesloten wordt: een invulveld "
        "eindigt met }} en een instructie met %}."
    )
    with pytest.raises(TemplateRefused) as caught:
        check_template("welcome", "Welkom {{ voornaam }", "{{ activatielink }}")
    assert caught.value.text("nl") == (
        "In het onderwerp is regel 1 niet te lezen als sjabloon. Kijk daar de accolades na: een "
        "invulveld schrijf je als {{ voornaam }}."
    )


def test_a_refusal_reads_in_dutch_too() -> None:
    with pytest.raises(TemplateRefused) as caught:
        check_template("updated", "Bijgewerkt", "{{ activatielink }}")
    assert caught.value.text("nl") == (
        "Het sjabloon noemt activatielink, dat dit bericht niet heeft. Het kan gebruiken: naam, "
        "voornaam, achternaam, wijzigingen, organisatie."
    )


BOMBS = [
    # Behind a condition the save check never meets; it runs when a mail is sent.
    "{% if voornaam == 'Jan' %}{% for i in range(9000) %}{% for j in range(9000) %}"
    "{% endfor %}{% endfor %}{% endif %}",
    "{{ 'x' * 10**9 }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ naam|center(2000000000) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{% for i in range(9000) %}{% for j in range(9000) %}x{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_template_that_would_hang_or_fill_memory_is_stopped(bomb: str) -> None:
    body = bomb + "\n{{ activatielink }}"
    started = time.monotonic()
    with pytest.raises(TemplateRefused) as caught:
        check_template("welcome", "Welkom", body)
        fill_message("welcome", "Welkom", body, {"voornaam": "Jan"}, organisation="", language="nl")
    assert caught.value.variant in {"number", "unsafe", "too-slow"}
    assert time.monotonic() - started < RENDER_SECONDS + 2


def test_a_welcome_or_invitation_without_its_link_is_refused() -> None:
    for kind in ("welcome", "invite"):
        with pytest.raises(TemplateRefused, match=r"must contain \{\{ activatielink \}\}"):
            check_template(kind, "Welkom", "Hoi {{ naam }}, welkom!")
    check_template("updated", "Bijgewerkt", "Hoi {{ naam }}: {{ wijzigingen }}.")


def test_only_the_templates_own_link_becomes_a_button() -> None:
    filled = fill_message(
        "welcome",
        "Welkom {{ voornaam }}",
        "Beste {{ voornaam }},\n\n{{ activatielink }}",
        {
            "voornaam": "Klik https://evil.example/Activate?token=steal \ue000activatielink\ue001",
            "activatielink": "https://portaal.example.nl/Activate?token=echt",
        },
        organisation="",
        language="nl",
    )
    assert filled.html.count("<a ") == 1
    assert 'href="https://portaal.example.nl/Activate?token=echt"' in filled.html
    assert "evil.example" not in filled.html.split("<a ")[1]
    assert "Klik https://evil.example/Activate?token=steal" in filled.text
    assert filled.text.endswith("https://portaal.example.nl/Activate?token=echt")
