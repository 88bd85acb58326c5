"""Extra Presidio recognizers for clinical conversations.

Presidio's predefined recognizers cover e-mails, SSNs, IPs, credit cards and
phone numbers that ``phonenumbers`` can validate.  Consultations also carry
medical record numbers, dates of birth, street addresses, postcodes and phone
numbers in local formats.  These recognizers are general patterns (street
types, unit words, cue phrases), never fitted to particular values.
"""
from __future__ import annotations

import re
from typing import Iterable

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

__all__ = ["CuedValueRecognizer", "DigitCountRecognizer", "build_clinical_recognizers", "PHONE_REGIONS"]

#: Regions whose phone formats Presidio's ``phonenumbers`` recognizer tries (default: 8).
PHONE_REGIONS = ("US", "GB", "CA", "AU", "NZ", "IE", "IN", "ZA", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "IT",
                 "ES", "PT", "BR", "MX", "AR", "PL", "CZ", "SK", "HU", "RO", "SE", "NO", "DK", "FI", "GR", "TR",
                 "IL", "PH", "SG", "NG", "KE")

_CAP = r"[A-ZÀ-ÖØ-Ý][\wÀ-ÖØ-öø-ÿ'’-]*"
_WORD = r"[\wÀ-ÖØ-öø-ÿ'’.-]+"
# words that never sit between a house number and a street type ("30 miles on a road")
_NOT_STREET_WORD = r"(?!(?:on|a|an|the|in|of|to|for|and|or|at|by|from|miles?|km|minutes?|hours?|times?|days?)\b)"
_STREET_TYPES = (
    r"Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    r"Path|Nagar|Marg|Chowk|Colony|Layout|Gali|Bagh|Ganj|Brae|Wynd|Gate|Heights|Vale|Meadow|Meadows|Fields|"
    # USPS Publication 28 street suffixes
    r"Turnpike|Mills?|Spurs?|Stravenue|Summit|Throughway|Trace|Trafficway|Tunnel|Underpass|Valley|Viaduct|"
    r"Village|Ville|Vista|Views|Wells|Estates?|Extension|Falls|Ferry|Field|Flats?|Ford|Forest|Forge|Fork|"
    r"Freeway|Garden|Glens?|Harbor|Haven|Hollow|Inlet|Island|Isle|Knolls?|Lakes?|Landing|Lights?|Locks?|"
    r"Lodge|Manor|Mission|Motorway|Mount|Mountain|Neck|Orchard|Oval|Overpass|Pass|Pines?|Plains?|Points?|"
    r"Ports?|Prairie|Ramp|Ranch|Rapids?|Route|Run|Shoals?|Shores?|Skyway|Springs?|Stream|Bypass|Canyon|"
    r"Cape|Center|Cliffs?|Common|Corners?|Cove|Creek|Crest|Crossroad|Curve|Dale|Divide|Branch|Bridge|"
    r"Brooks?|Burg|Bluffs?|Bend|Beach|Arcade|Annex|Unions?|Squares|Streets|Roads|Routes|Ways|Trails?|"
    r"Terrace|Crescent|Close|Trail|Parkway|Pkwy|Highway|Hwy|Square|Sq|Row|Radial|Circle|Cir|"
    r"Gardens|Grove|Mews|Walk|Park|Hill|Rise|View|Green|Loop|Pike|Alley|Path|Expressway|"
    r"Freeway|Junction|Crossing|Plaza|Ridge|Causeway|Wharf|Quay|Embankment"
)
_FOREIGN_SUFFIX = (
    r"veien|vegen|vei|gata|gaten|gate|gatan|vägen|vej|gade|straße|strasse|str\.|weg|laan|"
    r"straat|gasse|platz|allee|ring|utca|útja|körút|tér|sor|ulica|aleja|steeg|laan|plein|gracht|kade|singel|"
    r"dijk|hof|pad|baan|dreef|markt|-Weg|-Straße|-Strasse|-Platz|-Allee|-Ring"
)
#: street words that come before the name in Romance-language addresses ("avenue Maury", "Via Roma")
_ROMANCE_STREET = (
    r"rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|quai|route|cours|passage|via|viale|piazza|piazzale|"
    r"corso|vicolo|largo|strada|contrada|canale|borgo|calle|camino|paseo|plaza|acceso|ronda|carrer|travesía|"
    r"avenida|rua|travessa|praça|praia|trevo|alameda|rodovia|estrada|vila|ladeira|setor|quadra"
)
_HOUSE_NUMBER = r"\d{1,5}(?:\s?[-/]\s?\d{1,5})?[A-Za-z]?"
_FOREIGN_WORD = (
    r"tér|utca|út|körút|sor|straße|strasse|weg|platz|allee|gasse|vej|gata|gade|ulica|aleja|"
    r"calle|via|viale|rue|rua|avenida|avenue|plac|náměstí|ulice"
)
_STREET_PREFIX = r"ul\.|ulica|al\.|aleja|rue|via|viale|calle|avenida|av\.|rua|plac|pl\.|carrer"


class CuedValueRecognizer(EntityRecognizer):
    """A regex whose named group ``value`` is the entity; the rest is the cue.

    ``PatternRecognizer`` masks a whole match; here a cue ("date of birth is",
    "MRN") makes a value trustworthy without masking the cue itself.
    """

    def __init__(
        self,
        entity: str,
        patterns: Iterable[str],
        score: float,
        name: str,
        flags: int = re.IGNORECASE | re.MULTILINE,
    ):
        self._patterns = [re.compile(p, flags) for p in patterns]
        self._score = score
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:  # nothing to load: patterns compile in __init__
        return None

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return results
        for pattern in self._patterns:
            for match in pattern.finditer(text):
                start, end = match.span("value")
                if end > start:
                    results.append(RecognizerResult(entity, start, end, self._score))
        return results


class DigitCountRecognizer(EntityRecognizer):
    """A regex whose match counts only when it holds ``min_digits``..``max_digits`` digits
    (a phone number is 8-15 digits however it is grouped)."""

    def __init__(self, entity: str, patterns: Iterable[str], score: float, name: str,
                 min_digits: int, max_digits: int):
        self._patterns = [re.compile(p) for p in patterns]
        self._score, self._min, self._max = score, min_digits, max_digits
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:
        return None

    def analyze(self, text, entities, nlp_artifacts=None):
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return []
        results = []
        for pattern in self._patterns:
            for match in pattern.finditer(text):
                if self._min <= sum(c.isdigit() for c in match.group()) <= self._max:
                    results.append(RecognizerResult(entity, match.start(), match.end(), self._score))
        return results


_MONTHS = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?|May"
)
_TIME = r"(?:,?\s*(?:at\s+|T)?\d{1,2}[:.h]\d{2}(?::\d{2})?(?:\s?(?i:[ap]\.?m\.?))?)?"


def _date_recognizers() -> list[EntityRecognizer]:
    """Dates in numeric, ISO and day-month forms, with an optional time of day."""
    return [_pattern("calendar_date", "DATE", [
        rf"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})\b{_TIME}",
        rf"\b\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}(?!\d){_TIME}",
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+\d{{4}}|\s+'?\d{{2}}\b)?{_TIME}",
        rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?{_TIME}",
    ], 0.6)]


def _phone_recognizers() -> list[EntityRecognizer]:
    """Phone numbers ``phonenumbers`` cannot parse without a region: international (+CC), grouped
    digits (spaces, dots, dashes, brackets, a trunk ``(0)``), and long unbroken digit runs."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    grouped = DigitCountRecognizer("PHONE_NUMBER", [
        r"(?<![\w+/.,-])\+\s?\d{1,3}(?:[\s.-]?\(?\d{1,5}\)?){1,5}(?:[\s./-]?\d{2,6})(?![\w/-])",
        r"(?<![\w/.,-])\(?\d{2,5}\)?(?:[\s./-]{1,2}\(?\d{2,5}\)?){1,4}(?![\w/-]|[.,]\d)",
        r"(?<![\w.,/-])\d{9,15}(?![\w/-]|[.,]\d)",
    ], 0.45, "grouped_phone", min_digits=8, max_digits=15)
    return [PhoneRecognizer(supported_regions=PHONE_REGIONS), grouped]


def _postal_recognizers() -> list[EntityRecognizer]:
    """Postal codes whose shape says what they are (no cue needed)."""
    return [_pattern("shaped_postcode", "ZIP_CODE", [
        r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b",            # Canada K1A 0B1
        r"\b\d{5}-\d{3}\b",                          # Brazil 01310-100
        r"\b(?:[A-Z]{1,2}-)\d{4,5}\b",                 # H-7908, D-10115, NL-1011
        r"\b\d{4}\s?(?!MG|ML|IU|UG|MCG|KG|AM|PM)[A-Z]{2}\b",  # Netherlands 1011 AB
    ], 0.5, context=["postcode", "post code", "zip", "address", "lives"])]


def _pattern(name: str, entity: str, regexes: list[str], score: float, context: list[str] | None = None):
    return PatternRecognizer(
        supported_entity=entity,
        name=name,
        patterns=[Pattern(f"{name}_{i}", r, score) for i, r in enumerate(regexes)],
        context=context,
    )


def build_clinical_recognizers() -> list[EntityRecognizer]:
    """The recognizers added to Presidio's registry by :class:`PiiEngine`."""
    street = _pattern(
        "street_address", "STREET_ADDRESS",
        [
            # 221B Baker Street, 5 North Oak Avenue
            rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_NOT_STREET_WORD}{_CAP}\s+){{0,3}}(?:{_STREET_TYPES})\b\.?",
            # Skoanveien 226, 5720 Skoanveien 226, Hauptstraße 5
            rf"(?:\b\d{{1,5}}\s+)?\b{_CAP}(?:{_FOREIGN_SUFFIX})\s+{_HOUSE_NUMBER}\b\.?",
            # Erzsébet tér 19., 233 Erzsébet tér 19.
            rf"(?:\b\d{{1,5}}\s+)?\b{_CAP}\s+(?:{_FOREIGN_WORD})\s+\d{{1,5}}[A-Za-z]?\b\.?",
            # ul. Cicha 86, rue Lepic 54
            rf"(?<!\w)(?:{_STREET_PREFIX})\s+{_CAP}(?:\s+{_CAP})?\s+\d{{1,5}}[A-Za-z]?\b",
            # 79, avenue Maury; 12 rue de la Paix
            rf"\b{_HOUSE_NUMBER},?\s+(?i:{_ROMANCE_STREET})\s+(?:(?i:de|da|do|dos|das|del|della|di|du|des|la|le)\s+)*"
            rf"{_CAP}(?:\s+{_CAP}){{0,2}}",
            # Canale Sollima, 54; Trevo de Peixoto, 7; Via Roma 12
            rf"(?<!\w)(?i:{_ROMANCE_STREET})\s+(?:(?i:de|da|do|dos|das|del|della|di|du|des|la|le)\s+)*"
            rf"{_CAP}(?:\s+{_CAP}){{0,2}},?\s+{_HOUSE_NUMBER}\b",
            # 45/91, Bhakta Path (house numbers with a slash or range)
            rf"\b\d{{1,5}}\s?[-/]\s?\d{{1,5}},?\s+(?:{_CAP}\s+){{0,3}}(?:{_STREET_TYPES})\b\.?",
            # Apt. 117, Suite 282, Flat 3B
            r"\b(?:Apt|Apartment|Suite|Ste|Unit|Flat|Bldg|Building|P\.?O\.? Box)\.?\s*#?\s*\d{1,5}[A-Za-z]?\b",
            # the corner of <street> and <street>
            rf"\b(?:the\s+)?corner\s+of\s+(?:{_WORD}\s+){{1,4}}?and\s+{_CAP}(?:\s+{_CAP}){{0,2}}",
        ],
        0.6,
        context=["address", "live", "lives", "living", "street", "road", "moved", "apartment"],
    )
    uk_postcode = _pattern(
        "uk_postcode", "ZIP_CODE", [r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b"], 0.6,
        context=["postcode", "post code", "address"],
    )
    us_zip = _pattern(
        "us_zip", "ZIP_CODE", [r"\b\d{5}(?:-\d{4})?\b"], 0.05,
        context=["zip", "zipcode", "postal", "postcode", "address"],
    )
    cued_zip = CuedValueRecognizer(
        "ZIP_CODE",
        [
            r"\b(?:zip|postal|post)\s*-?\s*code\s*(?:is|was|:|number)?\s*(?P<value>[A-Z0-9]{2,4}\s?[A-Z0-9]{0,4}\d)\b",
            # the postcode line closing a multi-line postal address: "Hungary 34796"
            r"(?<=\n)[^\S\n]*(?:[^\s\d]\S*[^\S\n]+){1,3}(?P<value>\d{4,6})[^\S\n]*(?=\n|$)",
        ],
        0.7, "cued_zip",
    )
    phone = _pattern(
        "local_phone", "PHONE_NUMBER",
        [
            r"(?<!\w)(?:\+\d{1,3}[\s.-]?)?\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,4}\b",
            r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?0\d{3,4}[\s.-]?\d{3}[\s.-]?\d{3,4}\b",
            r"(?<![\w.])\d{3}[\s.-]\d{3}[\s.-]\d{4}\b",
        ],
        0.4,
        context=["phone", "call", "number", "mobile", "cell", "fax", "office", "tel", "telephone",
                 "ring", "contact", "reach"],
    )
    mrn = CuedValueRecognizer(
        "MEDICAL_RECORD_NUMBER",
        [
            r"\b(?:MRN|medical\s+record\s+(?:number|no\.?|#)|record\s+(?:number|no\.?|#)|"
            r"hospital\s+(?:number|no\.?)|patient\s+(?:id|identifier|number)|chart\s+(?:number|#))"
            r"\s*(?:is|:|#)?\s*(?P<value>[A-Z]{0,3}[-\s]?\d[\d\s-]{3,14}\d)\b",
        ],
        0.85, "medical_record_number",
    )
    dob = CuedValueRecognizer(
        "DATE",
        [
            r"\b(?:date\s+of\s+birth|DOB|D\.O\.B\.?|born\s+(?:on|in)?|birthday\s+is)\s*(?:is|:|was)?\s*"
            r"(?P<value>(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Za-z]{3,9},?\s+\d{2,4}|"
            r"[A-Za-z]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}))",
        ],
        0.9, "date_of_birth",
    )
    named_person = CuedValueRecognizer(
        "PERSON",
        [
            rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+(?P<value>{_CAP}(?:\s+{_CAP})?)",
            rf"\b(?i:my|her|his|their|your)\s+(?i:maiden\s+|first\s+|last\s+|family\s+|sur)?"
            rf"(?i:name)\s+(?i:is|was)\s+(?P<value>{_CAP}(?:\s+{_CAP})?)",
        ],
        0.7, "cued_person", flags=re.MULTILINE,
    )
    age = CuedValueRecognizer(
        "AGE",
        [
            r"\b(?P<value>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old\b",
            r"\b(?P<value>\d{1,3})\s*(?:yo|y/o|y\.o\.)(?!\w)",
            r"\b(?:aged|age|turn|turned|turning)\s+(?P<value>\d{1,3})\b",
        ],
        0.8, "age",
    )
    return [street, uk_postcode, us_zip, cued_zip, phone, mrn, dob, named_person, age,
            *_date_recognizers(), *_phone_recognizers(), *_postal_recognizers()]
