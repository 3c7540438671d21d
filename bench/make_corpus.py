"""The 20-document corpus of bench_create (`python -m bench.make_corpus` rewrites bench/corpus/).

Product manuals, policies and support notes of a made-up appliance maker, written from templates
with a seeded random generator: the same files every time. They are full of what real product
documents hold and what a figure check must not trip over: product names with digits ("Lumo
Max4", "Aera Pro2"), protection classes ("IP55"), part numbers ("HX-2210"), versions, prices,
dates, durations and steps. Made up for this project (no third-party text); Halden Home
and its products do not exist. About 100 chunks of 900 tokens, like the corpus of issue 20.
"""

from __future__ import annotations

import random
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
SEED = 20
PARAGRAPHS_PER_DOC = 33  # ~5 chunks of 900 tokens per document

PRODUCTS = ["Lumo Max4", "Aera Pro2", "Tidal One", "Vento S3", "Kora Mini", "Brisa X7",
            "Nordlys Air5", "Polar Duo", "Sola C2", "Fjord Max2", "Ember Pro3", "Halo Z1",
            "Quill Lite", "Strata V8", "Marin Go", "Tern Plus", "Alder K4", "Vega One",
            "Crest M6", "Orla Pro5"]
KINDS = ["robot vacuum", "air purifier", "dishwasher", "tower fan", "kettle", "dehumidifier",
         "heat pump", "washer-dryer", "induction hob", "cordless vacuum", "espresso machine",
         "smart thermostat", "hand blender", "water heater", "portable heater", "humidifier",
         "range hood", "steam iron", "rice cooker", "ceiling fan"]
DOC_TYPES = ["User manual", "Quick start guide", "Service and warranty terms", "Support notes",
             "Installation guide"]
IP = ["IP55", "IPX4", "IP67", "IP44", "IPX7", "IP54"]
STANDARDS = ["EN 60335-1", "EN 60335-2-2", "IEC 62368-1", "EN 55014-1", "UL 507"]
TEAMS = ["Halden Care", "the Halden service desk", "the returns team", "a certified installer",
         "the field service team", "Halden Parts"]
CITIES = ["Oslo", "Bergen", "Aarhus", "Gothenburg", "Tampere", "Leeds", "Utrecht", "Ghent"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
COLOURS = ["graphite", "sand", "fjord blue", "moss green", "chalk white", "slate"]
PARTS = ["filter cartridge", "brush roll", "water tank", "gasket", "charging dock", "heating plate",
         "fan module", "control board", "drain hose", "carbon pre-filter", "side brush",
         "descaling cartridge"]
ACTIONS = ["Unplug the appliance", "Open the front cover", "Lift out the {part}",
           "Rinse the {part} under lukewarm water", "Let the {part} dry for {h} hours",
           "Refit the {part} until it clicks", "Hold the power button for {s} seconds",
           "Press Menu and choose Service", "Check that the status light turns {colour}",
           "Run one empty cycle of {m} minutes"]
LIGHTS = ["green", "amber", "red", "blue", "white"]

TEMPLATES = [
    "The {p} {kind} weighs {kg} kg and measures {w} x {d} x {h2} cm.",
    "In Eco mode the {p} uses {watt} W, and {watt2} W at full power.",
    "The {p} is rated {ip}, so it can be used in {place}.",
    "The battery of the {p} holds {mah} mAh and lasts up to {mins} minutes on the lowest setting.",
    "A full charge of the {p} takes {hours} hours on the supplied dock.",
    "The {p} is tested to {std} and carries the CE mark.",
    "At the lowest speed the {p} runs at {db} dB, about as loud as {quiet}.",
    "The {p} sells for {price} including VAT in the {colour} finish.",
    "Firmware version {ver} of the {p} adds {feature} and fixes {bug}.",
    "The replacement {part} for the {p} has part number {pn} and costs {small_price}.",
    "Replace the {part} of the {p} every {months} months, or sooner in homes with pets.",
    "The {p} covers rooms of up to {area} square metres.",
    "The warranty on the {p} is {wmonths} months from the date of purchase, and {extra} months "
    "more when the product is registered within {days} days.",
    "Orders placed before {time} on a weekday are shipped the same day from our warehouse in {city}.",
    "Returns are free within {days} days if the {p} is unused and in its original box.",
    "A refund reaches the original payment card within {refund} working days after {team} "
    "receives the return.",
    "Error code {code} on the {p} means that the {part} is blocked or missing.",
    "If the status light blinks {light} {times} times, the {p} needs {fix}.",
    "{team} answers calls on {phone} from {open} to {close} on weekdays.",
    "The {p} was launched on {date} and replaced the older {old} model.",
    "Spare {part}s for the {p} stay available for at least {years} years after the last unit "
    "is sold.",
    "The power cord of the {p} is {cord} m long and the plug is a type {plug}.",
    "The {p} holds {litres} litres, enough for {cups} cups.",
    "Descale the {p} every {weeks} weeks when the water hardness is above {hard} °dH.",
    "The child lock of the {p} is switched on by holding {button} for {s} seconds.",
    "Delivery to {city} takes {ddays} working days and costs {ship} for orders under {free_over}.",
    "A technician visit under warranty is free; outside the warranty the call-out fee is "
    "{callout}, plus {hourly} per hour of work.",
    "The {p} keeps its settings for {hours} hours during a power cut.",
    "The app pairs with the {p} over {radio} and needs {app_os} or later.",
    "Installation of the {p} needs a {amp} A fuse and a dedicated circuit.",
    "The {p} starts {delay} minutes after the timer is set, at the earliest.",
    "The filter of the {p} catches {pct} percent of particles down to {micron} microns.",
    "Customers in {city} can drop a {p} for repair at the service point on {street}.",
    "Since {date}, every {p} ships with a {part} in the box.",
    "The {p} may not be used by children under {age} without supervision.",
    "The noise level of the {p} at full power is {db2} dB, measured at {metres} m.",
    "Cleaning the {part} of the {p} with solvents or a dishwasher voids the warranty.",
    "The {p} switches itself off after {idle} minutes without use.",
    "Trade in an old {kind} and get {discount} off a new {p} until {date}.",
    "The display of the {p} shows the remaining run time in minutes and the filter state in "
    "percent.",
    "Wall mounting the {p} needs {screws} screws of {screw_mm} mm and a wall that carries "
    "{load} kg.",
    "The {p} reaches its set temperature of {temp} °C in about {mins2} minutes.",
    "Each {p} leaves the factory in {city} after a {test_h}-hour test run.",
    "The {part} of the {p} is made of {material} and can be recycled.",
    "On the {p}, the Boost setting lasts {boost} minutes before it returns to Auto.",
    "A {p} bought from a reseller is covered by the same {wmonths}-month warranty if the receipt "
    "shows the date.",
    "Halden Home collects an old appliance for {pickup} when a new {p} is delivered.",
    "The {p} detects a tilt of more than {tilt} degrees and stops within {stop} seconds.",
    "The energy label of the {p} is class {label}, with {kwh} kWh per year in normal use.",
    "Software updates for the {p} install overnight between {night} and {night2}.",
    "The packaging of the {p} is {recycled} percent recycled cardboard.",
    "The {p} can be used at altitudes up to {altitude} m and at room temperatures from "
    "{tmin} °C to {tmax} °C.",
]
MATERIALS = ["stainless steel", "ABS plastic", "anodised aluminium", "borosilicate glass",
             "recycled polypropylene"]
PLACES = ["bathrooms", "covered outdoor areas", "laundry rooms", "garages", "kitchens"]
QUIET = ["a whisper", "a quiet library", "rustling leaves", "a refrigerator hum"]
FEATURES = ["a night mode", "scheduled cleaning", "a holiday setting", "room mapping",
            "energy reports", "a quiet boost"]
BUGS = ["a pairing fault", "a clock drift", "the filter reminder", "a start-up delay",
        "the display flicker"]
FIXES = ["a new filter", "descaling", "a reset", "a service visit", "its tank emptied"]
RADIOS = ["Wi-Fi 2.4 GHz", "Bluetooth 5.0", "Wi-Fi 5 GHz", "Thread"]
APP_OS = ["Android 10", "iOS 15", "Android 12", "iOS 16"]
STREETS = ["Storgata 12", "Havnegade 4", "Kungsgatan 31", "Hämeenkatu 9", "Boar Lane 7"]
BUTTONS = ["Start", "the power button", "Menu and Timer together", "the dial"]
HEADINGS = ["Getting started", "Specifications", "Everyday use", "Cleaning and care",
            "Troubleshooting", "Warranty", "Delivery and returns", "Safety", "Spare parts",
            "Contact and service"]


def _values(rng: random.Random, product: str, kind: str) -> dict[str, object]:
    """One random value for every slot of the templates."""
    month = rng.choice(MONTHS)
    return {
        "p": product, "kind": kind, "kg": f"{rng.uniform(0.8, 60):.1f}",
        "w": rng.randint(20, 90), "d": rng.randint(15, 70), "h2": rng.randint(20, 120),
        "watt": rng.randint(5, 60), "watt2": rng.randint(80, 2400), "ip": rng.choice(IP),
        "place": rng.choice(PLACES), "mah": f"{rng.randint(18, 64) * 100:,}",
        "mins": rng.randint(35, 180), "hours": rng.randint(2, 9), "std": rng.choice(STANDARDS),
        "db": rng.randint(19, 38), "db2": rng.randint(48, 72), "quiet": rng.choice(QUIET),
        "price": f"€{rng.randint(49, 1899):,}", "colour": rng.choice(COLOURS),
        "ver": f"{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 12)}",
        "feature": rng.choice(FEATURES), "bug": rng.choice(BUGS), "part": rng.choice(PARTS),
        "pn": f"HX-{rng.randint(1000, 9999)}", "small_price": f"€{rng.randint(6, 89)}",
        "months": rng.choice([3, 6, 9, 12]), "area": rng.randint(18, 120),
        "wmonths": rng.choice([24, 36, 60]), "extra": rng.choice([12, 24]),
        "days": rng.choice([14, 30, 60, 100]), "time": f"{rng.randint(12, 16)}:00",
        "city": rng.choice(CITIES), "refund": rng.randint(3, 10), "team": rng.choice(TEAMS),
        "code": f"E{rng.randint(10, 99)}", "light": rng.choice(LIGHTS),
        "times": rng.choice(["two", "three", "four", "five"]), "fix": rng.choice(FIXES),
        "phone": f"+47 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                 f"{rng.randint(10, 99)}",
        "open": f"{rng.randint(7, 9)}:00", "close": f"{rng.randint(16, 20)}:00",
        "date": f"{rng.randint(1, 28)} {month} {rng.randint(2021, 2026)}",
        "old": rng.choice(PRODUCTS).split()[0] + f" {rng.choice('ABCDEFGH')}{rng.randint(1, 9)}",
        "years": rng.choice([5, 7, 10]), "cord": f"{rng.uniform(0.8, 3):.1f}",
        "plug": rng.choice("CEFG"), "litres": f"{rng.uniform(0.5, 12):.1f}",
        "cups": rng.randint(4, 40), "weeks": rng.choice([2, 4, 6, 8]), "hard": rng.randint(8, 16),
        "button": rng.choice(BUTTONS), "s": rng.choice([3, 5, 10]), "ddays": rng.randint(1, 6),
        "ship": f"€{rng.randint(4, 19)}", "free_over": f"€{rng.choice([49, 99, 149])}",
        "callout": f"€{rng.randint(59, 129)}", "hourly": f"€{rng.randint(45, 95)}",
        "radio": rng.choice(RADIOS), "app_os": rng.choice(APP_OS), "amp": rng.choice([10, 13, 16, 20]),
        "delay": rng.choice([1, 2, 5]), "pct": rng.choice([95, 97, 99, 99.5]),
        "micron": rng.choice(["0.3", "1", "2.5"]), "street": rng.choice(STREETS),
        "age": rng.choice([8, 12, 14]), "metres": rng.choice([1, 2, 3]),
        "idle": rng.choice([10, 15, 30, 60]), "discount": f"€{rng.choice([25, 50, 75, 100])}",
        "screws": rng.choice([2, 4, 6]), "screw_mm": rng.choice([5, 6, 8]),
        "load": rng.randint(10, 40), "temp": rng.randint(40, 95), "mins2": rng.randint(3, 25),
        "test_h": rng.choice([4, 8, 12, 24]), "material": rng.choice(MATERIALS),
        "boost": rng.choice([10, 15, 20, 30]), "pickup": rng.choice(["free", "€15", "€25"]),
        "tilt": rng.choice([30, 45, 60]), "stop": rng.choice([1, 2, 3]),
        "label": rng.choice(["A", "B", "C", "D"]), "kwh": rng.randint(12, 420),
        "night": f"{rng.randint(1, 2)}:00", "night2": f"{rng.randint(4, 5)}:00",
        "recycled": rng.choice([70, 85, 92, 100]), "altitude": rng.choice([2000, 3000]),
        "tmin": rng.choice([0, 5, 10]), "tmax": rng.choice([35, 40]),
    }


def _steps(rng: random.Random, product: str) -> str:
    """A numbered procedure of 4-6 steps."""
    values = {"part": rng.choice(PARTS), "h": rng.randint(2, 24), "s": rng.choice([3, 5, 10]),
              "colour": rng.choice(LIGHTS), "m": rng.choice([10, 15, 20, 30])}
    chosen = rng.sample(ACTIONS, rng.randint(4, 6))
    lines = [f"To service the {product}:"]
    lines += [f"{n}. {step.format(**values)}." for n, step in enumerate(chosen, start=1)]
    return "\n".join(lines)


def _paragraph(rng: random.Random, product: str, kind: str) -> str:
    sentences = []
    for template in rng.sample(TEMPLATES, rng.randint(4, 7)):
        text = template.format(**_values(rng, product, kind))
        sentences.append(text[0].upper() + text[1:])
    return " ".join(sentences)


def document(index: int) -> tuple[str, str]:
    """(file name, text) of document `index`."""
    rng = random.Random(SEED * 1000 + index)
    product, kind = PRODUCTS[index], KINDS[index]
    doc_type = DOC_TYPES[index % len(DOC_TYPES)]
    parts = [f"# {product} {kind}: {doc_type.lower()}",
             f"This document covers the {product} {kind} sold by Halden Home since "
             f"{rng.choice(MONTHS)} {rng.randint(2021, 2025)}."]
    headings = iter(rng.sample(HEADINGS, len(HEADINGS)) * 4)
    for n in range(PARAGRAPHS_PER_DOC):
        if n % 4 == 0:
            parts.append(f"## {next(headings)}")
        parts.append(_steps(rng, product) if n % 6 == 5 else _paragraph(rng, product, kind))
    slug = product.lower().replace(" ", "_")
    return f"{index + 1:02d}_{slug}.md", "\n\n".join(parts) + "\n"


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.glob("*.md"):
        old.unlink()
    for index in range(len(PRODUCTS)):
        name, text = document(index)
        (CORPUS / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
