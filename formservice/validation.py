"""Checking the typed answers of a form, field by field, with messages in French.

Each check returns the clean value to store or raises Invalid with the sentence shown next to the
field. File fields are checked in uploads.py (they need the bytes, not the text).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import urllib.parse
from decimal import Decimal

from callmodel.addresses import BadAddress, normalize_address
from callmodel.french import french_number
from callmodel.schema import FormField

CHECKBOX_VALUE = "oui"
NUMBER_MAX_LENGTH = 30
# Digits with an optional decimal part: no exponent (1e999 is not something a person types).
_NUMBER_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# Control characters other than tab and line breaks (C0, DEL, C1) and null bytes.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PHONE_RE = re.compile(r"^(?:\+33|0033|0)([1-9]\d{8})$")
_DATE_FR_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class Invalid(ValueError):
    """An answer that cannot be accepted; the message is shown to the person as is. `cleaned`,
    when given, is what the field shows instead of what was typed."""

    def __init__(self, message: str, cleaned: str | None = None):
        super().__init__(message)
        self.cleaned = cleaned


# Characters that change how a text reads without being seen: bidirectional embeddings, overrides
# and isolates anywhere (a name shown reversed in a receipt or an export); every other format
# character (zero-width spaces and joiners, soft hyphens, byte order marks) in a one-line answer.
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def invisible(char: str, multiline: bool) -> bool:
    return bool(_BIDI_RE.match(char)) or (not multiline and unicodedata.category(char) == "Cf")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def siret_ok(digits: str) -> bool:
    """14 digits passing the Luhn check; La Poste's establishments (SIREN 356000000) may instead
    have a digit sum that is a multiple of 5."""
    if not re.fullmatch(r"\d{14}", digits):
        return False
    return luhn_ok(digits) or (digits.startswith("356000000") and sum(int(c) for c in digits) % 5 == 0)


def clean_text(raw: str, field: FormField, *, multiline: bool) -> str:
    if "\x00" in raw or _CONTROL_RE.search(raw) or (not multiline and re.search(r"[\r\n\t]", raw)):
        raise Invalid("Le texte contient des caractères invisibles non autorisés : retirez-les.")
    visible = "".join(c for c in raw if not invisible(c, multiline))
    if visible != raw:
        raise Invalid("Ce texte contenait des caractères invisibles qui peuvent en changer la lecture (par exemple "
                      "une inversion du sens d'écriture) : nous les avons retirés ci-dessus. Vérifiez le texte, "
                      "puis envoyez à nouveau.", cleaned=visible)
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n")).strip()
    limit = field.limit
    if limit and len(text) > limit:
        raise Invalid(f"{len(text)} caractères : {limit} au maximum.")
    return text


def check_email(text: str, field: FormField) -> str:
    try:
        return normalize_address(text)
    except BadAddress:
        raise Invalid("Saisissez une adresse électronique valide, par exemple nom@exemple.fr.") from None


def check_tel(text: str, field: FormField) -> str:
    compact = re.sub(r"[\s.\-()]", "", text)
    match = _PHONE_RE.match(compact)
    if not match:
        raise Invalid("Saisissez un numéro de téléphone français, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89.")
    national = "0" + match.group(1)
    return " ".join(national[i:i + 2] for i in range(0, 10, 2))


def check_url(text: str, field: FormField) -> str:
    candidate = text if "://" in text else "https://" + text
    parts = urllib.parse.urlsplit(candidate)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in candidate or host.startswith("."):
        raise Invalid("Saisissez une adresse web valide, par exemple https://www.exemple.fr.")
    return candidate


def number_rule(field: FormField) -> str:
    """What a number field accepts, in words: for its hint and its error message."""
    whole = field.step is not None and float(field.step).is_integer() and float(field.min or 0).is_integer()
    kind = "Un nombre entier" if whole else "Un nombre"
    if field.min is not None and field.max is not None:
        text = f"{kind} entre {french_number(field.min)} et {french_number(field.max)}"
    elif field.min is not None:
        text = f"{kind} d'au moins {french_number(field.min)}"
    elif field.max is not None:
        text = f"{kind} d'au plus {french_number(field.max)}"
    else:
        text = kind
    if field.step is not None and not (whole and float(field.step) == 1):
        text += f", par pas de {french_number(field.step)}"
    return text + "."


def check_number(text: str, field: FormField) -> int | float:
    compact = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    if len(compact) > NUMBER_MAX_LENGTH or not _NUMBER_RE.match(compact):
        raise Invalid("Saisissez un nombre, par exemple 12 ou 12,5.")
    number = Decimal(compact)
    low = Decimal(str(field.min)) if field.min is not None else None
    high = Decimal(str(field.max)) if field.max is not None else None
    if (low is not None and number < low) or (high is not None and number > high):
        raise Invalid(f"{number_rule(field)[:-1]} est attendu.")
    if field.step is not None and (number - (low or 0)) % Decimal(str(field.step)) != 0:
        raise Invalid(f"{number_rule(field)[:-1]} est attendu.")
    return int(number) if number == number.to_integral_value() else float(number)


def check_date(text: str, field: FormField) -> str:
    french = _DATE_FR_RE.match(text)
    try:
        if french:
            day, month, year = (int(g) for g in french.groups())
            return dt.date(year, month, day).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise Invalid("Saisissez une date réelle, par exemple 15/01/2027.")


def check_siret(text: str, field: FormField) -> str:
    digits = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{14}", digits):
        raise Invalid("Le SIRET compte 14 chiffres, par exemple 732 829 320 00074.")
    if not siret_ok(digits):
        raise Invalid("Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres.")
    return digits


def check_select(text: str, field: FormField) -> str:
    if text not in field.choices:
        raise Invalid("Choisissez une des réponses proposées.")
    return text


CHECKS = {"email": check_email, "tel": check_tel, "url": check_url, "number": check_number,
          "date": check_date, "siret": check_siret, "select": check_select}


def shown_value(field: FormField, form):
    """What the person typed or chose, to fill the form again after an error."""
    if field.type == "multiselect":
        return form.getlist(field.name)
    if field.type == "checkbox":
        return form.get(field.name) == CHECKBOX_VALUE
    return form.get(field.name, "")


def check_field(field: FormField, form):
    """The clean value of one non-file field of a submitted form (a MultiDict), or Invalid."""
    if field.type == "multiselect":
        chosen = form.getlist(field.name)
        if any(c not in field.choices for c in chosen):
            raise Invalid("Choisissez parmi les réponses proposées.")
        if field.required and not chosen:
            raise Invalid("Choisissez au moins une réponse.")
        return [c for c in field.choices if c in chosen]
    if field.type == "checkbox":
        ticked = form.get(field.name) == CHECKBOX_VALUE
        if field.required and not ticked:
            raise Invalid("Cochez cette case pour continuer.")
        return ticked
    text = clean_text(form.get(field.name, ""), field, multiline=field.type == "textarea")
    if not text:
        if field.required:
            raise Invalid("Renseignez ce champ.")
        return None
    check = CHECKS.get(field.type)
    return check(text, field) if check else text
