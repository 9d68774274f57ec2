"""Deterministic sample data for Argus: news, social posts, patents, a portfolio, bad lines.

`python data/make_samples.py` rewrites data/samples/ byte for byte the same on every run
(fixed seed, stdlib only). Ten records are planted near-copies of portfolio items so the
similarity alert (cosine >= 0.8, all-MiniLM-L6-v2) has something to fire on; the rest is
templated text that stays well below the threshold.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "samples"
SEED = 20260315
# Several offsets, so the schemas' normalisation to UTC is exercised.
ZONES = [timezone(timedelta(hours=h, minutes=m)) for h, m in
         [(0, 0), (-5, 0), (-8, 0), (1, 0), (2, 0), (5, 30), (9, 0)]]  # fmt: skip

# fmt: off
COMPANIES = [  # name, ticker, chief executive, products
    ("Voltaris Energy", "VLTR", "Maria Okafor", ["VX-9 battery pack", "HomeCell storage wall"]),
    ("Skyhop Logistics", "SKYH", "Daniel Brandt", ["Hopper cargo drone", "drone delivery app"]),
    ("Lumen Health", "LUMN", "Aisha Rahman", ["Pulse smartwatch", "GlucoPatch sensor"]),
    ("Northwind Robotics", "NWRB", "Tomas Lindqvist", ["Picker arm", "autonomous forklift"]),
    ("Pellucid Systems", "PLCD", "Grace Whitfield", ["Clarity video app", "meeting camera"]),
    ("Aquafine Technologies", "AQFN", "Rafael Moreno", ["home water filter", "Pure+ purifier"]),
    ("Orbital Farms", "ORBF", "Hannah Cole", ["GrowTower kit", "indoor herb garden"]),
    ("Cobalt Motors", "CBLT", "Victor Hale", ["Aster sedan", "Ridge pickup"]),
    ("Quanta Silicon", "QSIL", "Mei Chen", ["Q7 AI accelerator", "Q-Edge laptop chip"]),
    ("Brightwell Coffee", "BRWL", "Sofia Esposito", ["Bloom espresso machine", "home roaster"]),
    ("Stridemark", "STRD", "Kwame Mensah", ["Apex racing shoe", "Ridge trail runner"]),
    ("Cloudnest", "CNST", "Laura Fischer", ["Nest Drive app", "Nest Home hub"]),
    ("Tidewater Bank", "TDWB", "Ruth Adeyemi", ["mobile banking app", "Tide debit card"]),
    ("Ferrox Steel", "FRXS", "Piotr Nowak", ["GreenCoil steel", "rebar mill"]),
]
OUTLETS = [("The Ledger Daily", "ledgerdaily.example"), ("Market Wire", "marketwire.example"),
           ("TechBeat", "techbeat.example"), ("The Harbor Times", "harbortimes.example"),
           ("Signal & Noise", "signalnoise.example"), ("Industry Week Review", "iwr.example")]
FIRST = ("Ana Ben Chloe David Elena Farid Greta Hiro Ines Jonas Kemi Leo Mara Nikhil Olga Paulo "
         "Rosa Sam Tara Umar Vera Wen Yusuf Zoe").split()
LAST = ("Abbott Baptiste Castro Dube Eriksen Fujita Gallo Haddad Ivanova Jensen Kowalski Lopes "
        "Mbeki Novak Ortiz Patel Quinn Rossi Sato Tanaka Ueda Varga Weber Young Zhang").split()
CITIES = ["Austin", "Berlin", "Toronto", "Singapore", "Lisbon", "Seoul", "Denver", "Manchester"]
COURTS = ["federal court in Delaware", "the Northern District of California",
          "the Eastern District of Texas", "the High Court in London"]
BROKERS = ["Halden Securities", "Brookline Partners", "Ostrava Capital", "Pine Street Research"]
# fmt: on

# Template blocks: `# name`, then `X text` lines, alternatives separated by " | ".
# News: T = headlines, S = body sentences (the first one is the lead), Q = quotes.
NEWS = """
# earnings_beat
T {co} beats estimates as {prod} demand lifts revenue {pct}% | {co} shares jump after {q} profit tops forecasts
S {co} ({tk}) reported {q} revenue of ${amt} billion on {day}, ahead of the consensus estimate.
S Earnings per share came in at ${eps}, compared with the ${eps2} analysts had expected.
S Management raised its full-year outlook and now expects revenue growth of roughly {pct}%.
S Shares of {co} rose {move}% in after-hours trading following the announcement.
S Chief executive {exec} told analysts that supply constraints had eased faster than expected.
S Gross margin widened by {bp} basis points, helped by lower component costs.
# earnings_miss
T {co} misses {q} forecasts, cuts guidance on weak {prod} orders | {co} stock slides as revenue falls short
S {co} ({tk}) posted {q} revenue of ${amt} billion, below the figure analysts had pencilled in.
S The company lowered its annual guidance, citing cautious customers and longer sales cycles.
S Shares fell {move}% in early trading in New York.
S {exec}, the chief executive, said the shortfall reflected timing rather than lost customers.
S Inventory rose sharply during the quarter, raising concerns about discounting later on.
S {analyst} said the guidance cut was larger than the market had feared.
# lawsuit
T {co} sued by {rival} over alleged breach of supply contract | Investors file class action against {co}
S A complaint filed in {court} accuses {co} of misleading investors about the {prod}.
S The plaintiffs are seeking damages of at least ${amt} million, according to court documents.
S {co} said in a statement that the claims were without merit and it would defend itself.
S The suit alleges that executives knew about production problems months before disclosing them.
S A hearing on a motion to dismiss is expected later this year.
S Legal experts said cases of this kind often settle before reaching a jury.
# launch
T {co} unveils {prod} with a lower price | {co} launches {prod} in {city}, targeting {rival} customers
S {co} introduced the {prod} at an event in {city}, promising shipments within six weeks.
S It is priced at ${price}, undercutting the closest offering from {rival}.
S {exec} said the product had been in development for three years.
S Reviewers praised the build quality but said the software still felt unfinished.
S The company plans to expand availability to twenty more markets by the end of the year.
S Preorders opened on the company website shortly after the presentation ended.
# recall
T {co} recalls {n} units of the {prod} over overheating risk | {co} issues voluntary recall for {prod}
S {co} will recall about {n} units of the {prod} after reports that some could overheat.
S The company has received {small} reports of incidents, including {tiny} minor burns.
S Owners are advised to stop using the product and contact the company for a replacement.
S {co} estimated the cost of the recall at roughly ${amt} million.
S The fault was traced to a component from a single supplier, which has since been replaced.
S Consumer groups criticised the company for taking weeks to act after the first complaints.
# layoffs
T {co} to cut {n} jobs in restructuring push | {co} trims workforce by {pct}% amid slowing growth
S {co} will eliminate about {n} positions, or roughly {pct}% of its workforce, it said.
S The cuts fall mostly on sales and administrative teams; engineering is largely spared.
S {exec} wrote in a memo to staff that the decision was painful but necessary.
S Affected employees will receive severance and extended health coverage.
S The company expects restructuring charges of ${amt} million, mostly this quarter.
S It is the second round of job cuts at {co} in less than a year.
# patent_dispute
T {rival} accuses {co} of infringing patents with its {prod} | Patent clash between {co} and {rival} heads to trial
S {rival} alleges that the {prod} infringes {small} of its patents on core hardware features.
S The complaint, filed in {court}, asks for an injunction that would block US sales.
S {co} has asked the patent office to review the validity of the asserted patents.
S A judge declined to issue a preliminary injunction, saying the hardships favoured {co}.
S Patent lawyers said damages can reach hundreds of millions if infringement was wilful.
S {co} said it respects valid intellectual property and developed its designs independently.
# merger
T {co} agrees to buy {rival} for ${amt} billion | {rival} board backs takeover offer from {co}
S {co} agreed to acquire {rival} in a cash-and-stock deal valuing it at about ${amt} billion.
S The offer is a premium of {pct}% to {rival}'s last closing price before the announcement.
S The combined company would have annual revenue of more than ${amt2} billion.
S The deal is expected to close in the second half of the year, subject to regulators.
S Antitrust specialists said regulators would look closely at overlaps in the market.
S Some shareholders of {rival} have signalled that they consider the price too low.
# context
S The results come at a time of uneven demand across the broader technology sector.
S Higher interest rates have made investors less patient with companies that burn cash.
S {co} employs about {staff} people and is headquartered in {city}.
S The company has spent heavily on research and development over the past two years.
S Supply chains have largely normalised after several years of disruption.
S The stock has {trend} this year, compared with a {idx}% change in the broader index.
S Several large customers have delayed purchases until the economic picture clears.
S The company is expected to give more detail at its investor day in the autumn.
S {analyst} kept a neutral rating on the stock, citing valuation.
S Regulators in Europe have been scrutinising the sector more closely.
S The company did not respond to a request for further comment.
Q "We are confident in the direction we have chosen," {exec} said. | "The numbers speak for themselves," {analyst} said.
Q "Our focus is on what customers actually need," {exec} said.
"""

# Social: P = post bodies by sentiment, T = tails that lengthen a post.
SOCIAL = """
# positive
P just tried the {prod} from {co} and honestly it is so much better than I expected
P ${tk} looking strong today, glad I held through the dip | shoutout to {co} support, fixed my order in ten minutes
P {co} earnings call was the most confident I have heard {exec} sound in years
P bought more ${tk} this morning, the {prod} story is just getting started
# negative
P my {prod} from {co} stopped working again, done with them
P ${tk} down again, why does management keep overpromising | {co} layoffs while execs get bonuses, classic
P waited on hold with {co} for 50 minutes and got disconnected
P the {co} recall is a mess, support had no idea what to tell me
# neutral
P anyone tried the {prod} yet? thinking about switching from {rival} | ${tk} options volume is unusually high today
P {co} reports after the close tomorrow, watching margins and guidance
P interesting thread on the {co} vs {rival} patent case | reading the {co} filing now, more later
P {co} is hosting an event in {city} next week, livestream link in bio
# tail
T what do you all think? | #earnings #stocks | not financial advice obviously | more in the replies
T will report back after a week of use | (via a friend who works there) | #tech | thoughts?
"""

# Patents, one block per CPC pair: O = claimed objects, P = purposes, C = claim elements,
# W = wherein clauses. Subjects are kept away from the portfolio's claims on purpose.
PATENTS = """
# H01M 10/0562 | H01M 10/42
O solid-state battery cell | battery module | electrolyte separator assembly
P improving cycle life at high charging rates | monitoring the health of battery modules
C a sulfide solid electrolyte layer having a thickness of less than 30 micrometres
C a stack pressure frame configured to apply a uniform pressure of 1 to 5 megapascals
C a temperature sensor embedded between adjacent cells and coupled to a management circuit
C a cell-balancing circuit configured to equalise the state of charge of series cells
W the cell retains at least 80 percent of its capacity after 1000 cycles
W the management circuit reduces charging current when the temperature exceeds 45 degrees
# B64U 10/13 | B64U 101/26
O inspection drone | aerial survey system | drone docking station
P inspecting wind turbine blades without rope access | automated surveys of bridges
C a gimbal-mounted thermal camera directed at a structure under inspection
C a lidar unit configured to measure a standoff distance to a wind turbine blade
C a docking station with contacts configured to recharge the drone between flights
C a data link configured to stream compressed images to a ground station
W defects are located by comparing thermal images across consecutive scans
W the flight controller holds a constant standoff distance during a scan
# A61B 5/021 | A61B 5/0245
O blood pressure monitor | wrist-worn health device | cardiac monitoring system
P estimating blood pressure continuously without a cuff | detecting irregular heart rhythm
C an optical sensor configured to record a photoplethysmogram at the wrist
C an electrode pair configured to record an electrocardiogram when touched by a finger
C a calibration store holding reference cuff measurements for the wearer
C an accelerometer configured to reject readings taken during motion
W blood pressure is estimated from a pulse transit time between the two signals
W the device prompts recalibration when the estimate drifts from the reference
# G06N 3/08 | G06N 3/0495
O neural network training system | model compression system | inference server
P compressing neural networks for mobile devices | reducing inference latency
C a teacher model and a smaller student model sharing a tokenizer
C a quantiser configured to map weights to four-bit integers with per-channel scales
C a scheduler configured to distribute mini-batches across accelerator devices
C a cache configured to store key and value tensors between decoding steps
W the student model is trained on soft labels produced by the teacher model
W accuracy loss after compression is below one percentage point on a validation set
# H04W 72/0446 | H04W 52/02
O wireless base station | user equipment | radio resource scheduler
P reducing base station energy use | scheduling low-latency traffic
C a transceiver configured to operate in a millimetre-wave band
C a beam manager configured to select a beam from a codebook based on reported quality
C a sleep controller configured to power down radio chains during idle slots
C a measurement unit configured to report channel state information periodically
W latency-sensitive traffic is scheduled in mini-slots ahead of bulk traffic
W resource blocks are allocated to devices by priority class
# B60L 53/16 | B60L 53/62
O electric vehicle charger | charging management system | charging connector
P sharing limited grid capacity between chargers | fast charging of electric trucks
C a liquid-cooled cable configured to carry more than 500 amperes
C a power module configured to convert grid alternating current to direct current
C a load controller configured to share grid capacity among several charge points
C a communication module configured to read the vehicle's state of charge
W charging power is reduced when the local transformer nears its rated load
W sessions are prioritised by the departure time entered by each driver
"""

# fmt: off
PORTFOLIO = [  # id, kind, owner, title, text
    ("pc-001", "patent_claim", "Voltaris Energy", "Silicon-graphite composite anode",
     "An anode for a lithium-ion battery, comprising a copper current collector and an active "
     "layer of silicon nanoparticles dispersed in a porous graphite matrix, wherein the silicon "
     "content is between 8 and 15 percent by weight, and wherein an elastomeric polyacrylate "
     "binder holds the particles together and absorbs the volume expansion of the silicon "
     "during lithiation so that the layer does not crack after repeated charging."),
    ("pc-002", "patent_claim", "Skyhop Logistics", "Tethered parcel drop from a hovering drone",
     "A delivery drone comprising a motorised winch that lowers a parcel on a tether while the "
     "drone hovers above the recipient's address, a downward-facing camera that recognises a "
     "printed landing marker on the ground, and a controller that opens the release hook only "
     "when the tether tension falls below a threshold indicating that the parcel has come to "
     "rest on the ground."),
    ("pc-003", "patent_claim", "Lumen Health", "Microneedle glucose patch",
     "A wearable glucose monitor comprising an adhesive skin patch carrying an array of "
     "microneedles that sample interstitial fluid, an enzymatic electrode coated with glucose "
     "oxidase that produces a current proportional to the glucose concentration, and a "
     "low-power Bluetooth radio that sends a reading to the wearer's phone every five minutes "
     "and raises an alarm when the level leaves a configured range."),
    ("pc-004", "patent_claim", "Northwind Robotics", "Vision-guided suction picking",
     "A warehouse picking robot comprising an articulated arm ending in a suction gripper with "
     "independently valved cups, a depth camera above the tote, and a processor that segments "
     "the items in the tote, ranks flat graspable surfaces by predicted seal quality, and moves "
     "the gripper to the highest-ranked surface before opening only the valves of the cups "
     "that will make contact."),
    ("pc-005", "patent_claim", "Pellucid Systems", "Landmark-based video call compression",
     "A method of reducing the bandwidth of a video call, comprising extracting facial landmarks "
     "and head pose from each captured frame at the sender, transmitting only the landmarks and "
     "an occasional reference image, and reconstructing a photorealistic frame at the receiver "
     "with a generative neural network conditioned on the reference image and the landmarks."),
    ("pc-006", "patent_claim", "Aquafine Technologies", "Graphene oxide desalination membrane",
     "A desalination membrane comprising a porous polysulfone support and a selective layer of "
     "stacked graphene oxide sheets cross-linked with diamine molecules, wherein the interlayer "
     "spacing is fixed below 0.7 nanometres so that water molecules pass between the sheets "
     "while sodium and chloride ions are rejected, the membrane operating at lower pressure "
     "than conventional reverse osmosis."),
    ("pc-007", "patent_claim", "Orbital Farms", "Adaptive LED spectrum for vertical farming",
     "A vertical farming system comprising stacked growing trays, each lit by an LED panel with "
     "separately dimmable red, blue and far-red channels, a camera that measures the leaf area "
     "and colour of the plants on each tray, and a controller that adjusts the ratio of the "
     "channels per tray according to growth stage to cut energy use per kilogram of produce."),
    ("tm-001", "trademark", "Brightwell Coffee", "Wake up to something brighter",
     "Brightwell Coffee. Wake up to something brighter. Small-batch beans, roasted at dawn and "
     "on your doorstep before the kettle boils."),
    ("tm-002", "trademark", "Stridemark", "Run further than yesterday",
     "Stridemark: run further than yesterday. Every shoe has a carbon spring plate and an upper "
     "knitted from recycled ocean plastic."),
    ("tm-003", "trademark", "Cloudnest", "Your files, everywhere, safe",
     "Cloudnest keeps your files everywhere and safe: the encrypted cloud drive that syncs "
     "quietly across every device you own."),
    ("tm-004", "trademark", "Petalwise", "Flowers that say it for you",
     "Petalwise: flowers that say it for you. Hand-tied bouquets from local growers, delivered "
     "the same day with a handwritten note."),
    ("cr-001", "copyright", "Harbor Lane Press", "The Keeper of Gull Point, chapter one",
     "The lamp at Gull Point had not failed in forty years, and Edda Morrow did not intend to "
     "let it fail on her watch. Every evening she climbed the hundred and twelve steps with a "
     "tin of oil and a rag, counting them aloud the way her father had, and every morning she "
     "wrote the weather in a ledger no one would ever read."),
    ("cr-002", "copyright", "Meridian Studios", "Paper Lanterns (lyrics)",
     "We let the paper lanterns go above the river in July. You said the sky was borrowing the "
     "light we couldn't keep, and I believed you, every word, the way the water held the fire "
     "and never learned to burn."),
    ("cr-003", "copyright", "Fieldnote Media", "What the Rain Knows (essay)",
     "A city in the rain becomes honest. The glass towers stop pretending to be sky, the buses "
     "sigh at every stop, and strangers share awnings without a word, standing shoulder to "
     "shoulder like old friends who have run out of things to say."),
    ("cr-004", "copyright", "Quillstone Education", "Interest Over Time, chapter three",
     "Compound interest is patience made visible. When the interest you earn is added to the "
     "balance, next year's interest is paid on a larger sum, so the growth curve bends upward "
     "slowly at first and then, after enough years, faster than most people expect."),
]

# Who else may use an item (docs/alerting.md, "Owners, licensees and allow lists").
PARTIES = {"tm-001": {"aliases": ["brightwellcoffee", "BRWL"], "licensees": ["Daybreak Cafes"]}}

# Planted near-copies: (file, record index, portfolio id, title or lead-in, extra fields);
# a "tail" is a sentence appended to the copied text.
NEAR = [
    ("news", 17, "cr-001", "Excerpt: the lamp at Gull Point", {}),
    ("news", 83, "pc-002", "Skyward Parcel's delivery drone lowers parcels on a tether", {}),
    ("news", 151, "pc-003", "Startup's wearable glucose monitor patch", {}),
    ("news", 209, "cr-003", "Column: a city in the rain",
     {"tail": "When the rain stops, the honest city goes back to pretending, and the "
             "strangers under the awnings become strangers again."}),
    ("social", 41, "tm-001", "", {}),
    ("social", 122, "tm-002", "new drop:", {}),
    ("social", 199, "cr-002", "", {}),
    # The owner's own post: matched, kept, not alerted on (the item names the handle).
    ("social", 77, "tm-001", "", {"author": "brightwellcoffee", "url": None}),
    ("patents", 23, "pc-001", "Silicon-graphite anode", {"cpc_codes": ["H01M 4/134", "H01M 4/38"]}),
    ("patents", 67, "pc-004", "Suction picking robot", {"cpc_codes": ["B25J 15/0616", "B65G 47/91"]}),
    ("patents", 104, "pc-006", "Graphene oxide membrane", {"cpc_codes": ["C02F 1/44", "B01D 71/02"]}),
]
# A burst of angry posts about one company on one morning, after a quiet year: the
# negative-sentiment surge rule (rules/negative-sentiment-surge.yaml) has this to fire on.
SURGE_START = datetime(2026, 12, 27, 9, tzinfo=UTC)
SURGE = [
    "Cobalt Motors just recalled every Aster sedan built this year, the brakes fail. Furious.",
    "$CBLT collapsing after the recall news, management lied to everyone about the brakes",
    "my Aster sedan brakes failed on the highway and Cobalt Motors support hung up on me. worst",
    "Cobalt Motors recall is a disaster, dealers have no parts and no answers. never again",
    "terrible handling by Cobalt Motors, families stranded with zero compensation. $CBLT deserves it",
    "cancelled my Ridge pickup order today, Cobalt Motors cannot be trusted with safety. awful",
]
# Light, generic paraphrase: word swaps, and the first sentence moved to the end.
SWAPS = [("comprising", "including"), ("Every", "Each"), ("every", "each"), ("aloud", "out loud"),
         ("no one", "nobody"), ("recognises", "identifies"), ("falls below", "drops under"),
         ("sends", "transmits"), ("wherein", "where"), ("without a word", "without speaking"),
         ("only when", "only once"), ("moves", "guides"), ("bends", "curves")]

# fmt: on


def blocks(text: str) -> dict[str, dict[str, list[str]]]:
    """Parse the template blocks above into {block: {letter: [alternatives]}}."""
    out: dict[str, dict[str, list[str]]] = {}
    for line in text.strip().splitlines():
        if line.startswith("# "):
            cur = out.setdefault(line[2:], {})
        else:
            cur.setdefault(line[0], []).extend(line[2:].split(" | "))
    return out


def stamp(rng: random.Random, start: datetime, i: int, n: int) -> str:
    # Records are spread over 2026 in order, each written in a random local offset.
    moment = start + timedelta(days=350 * i / n, minutes=rng.randrange(600))
    return moment.astimezone(rng.choice(ZONES)).isoformat(timespec="seconds")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def words(parts: list[str]) -> int:
    return len(" ".join(parts).split())


def fields(rng: random.Random) -> dict[str, object]:
    co, rival = rng.sample(COMPANIES, 2)
    return {
        "co": co[0], "tk": co[1], "exec": co[2], "prod": rng.choice(co[3]), "rival": rival[0],
        "pct": rng.randint(3, 28), "amt": f"{rng.uniform(0.4, 40):.1f}",
        "amt2": f"{rng.uniform(45, 120):.0f}", "eps": f"{rng.uniform(0.2, 3):.2f}",
        "eps2": f"{rng.uniform(0.2, 3):.2f}", "move": f"{rng.uniform(1, 14):.1f}",
        "q": rng.choice(["first-quarter", "second-quarter", "third-quarter", "fourth-quarter"]),
        "bp": rng.randint(20, 240), "city": rng.choice(CITIES), "court": rng.choice(COURTS),
        "analyst": f"{person(rng)}, an analyst at {rng.choice(BROKERS)},",
        "price": rng.choice([199, 249, 399, 549, 899, 1299]), "n": f"{rng.randint(2, 90)*1000:,}",
        "small": rng.randint(3, 12), "tiny": rng.randint(1, 4), "staff": f"{rng.randint(2, 80)}000",
        "trend": rng.choice(["gained", "lost"]) + f" {rng.randint(2, 40)}%",
        "idx": rng.randint(-9, 15), "day": rng.choice(["Tuesday", "Wednesday", "Thursday"]),
    }  # fmt: skip


def make_news(rng: random.Random, n: int) -> list[dict]:
    tpl = blocks(NEWS)
    ctx = tpl.pop("context")
    records = []
    for i in range(n):
        event, other = rng.sample(sorted(tpl), 2)
        f = fields(rng)
        lead, more = tpl[event]["S"][0], tpl[event]["S"][1:]
        # Lead, a quote, then the rest shuffled; long features also recap an older story.
        rest = rng.sample(more + ctx["S"], len(more) + len(ctx["S"])) + tpl[other]["S"]
        sents = [lead, rng.choice(more), rng.choice(ctx["Q"])] + rest
        target = rng.randint(*rng.choice([(60, 110), (110, 250), (250, 400)]))
        body: list[str] = []
        for s in dict.fromkeys(sents):  # ordered and without repeats
            if words(body) >= target or words(body) + len(s.split()) > 400:
                break
            body.append(s.format(**f))
        title = rng.choice(tpl[event]["T"]).format(**f)
        name, domain = rng.choice(OUTLETS)
        slug = "-".join(w.strip(",:$%'").lower() for w in title.split()[:8])
        when = stamp(rng, datetime(2026, 1, 3, 6, tzinfo=UTC), i, n)
        records.append({
            "id": f"news-{i + 1:04d}", "url": f"https://{domain}/2026/{when[5:7]}/{slug}",
            "source": name, "title": title, "language": "en", "published_at": when,
            "body": "\n\n".join(" ".join(body[k : k + 3]) for k in range(0, len(body), 3)),
            "authors": [person(rng) for _ in range(rng.randint(0, 2))],
            "tags": [event.replace("_", "-"), f["tk"].lower()],
        })  # fmt: skip
    return records


def make_social(rng: random.Random, n: int) -> list[dict]:
    tpl = blocks(SOCIAL)
    tails = tpl.pop("tail")["T"]
    platforms = {"x": "x.example", "bluesky": "bsky.example", "mastodon": "mastodon.example",
                 "reddit": "reddit.example", "threads": "threads.example"}  # fmt: skip
    handles = ["quiet_heron", "dividend_dan", "techmom", "chartwatcher", "lisbon_dev",
               "bagholder", "gadgetgirl", "supplychainsam", "nightshift_rn", "paper_hands"]  # fmt: skip
    records = []
    for i in range(n):
        mood = rng.choice(sorted(tpl))
        f = fields(rng)
        # One line or two, plus tails until the post has at least ten words (at most ~40).
        parts = [p.format(**f) for p in rng.sample(tpl[mood]["P"], rng.choice([1, 1, 2]))]
        while words(parts) < 10 or (words(parts) < 34 and rng.random() < 0.3):
            parts.append(rng.choice([t for t in tails if t not in parts]))
        platform = rng.choice(sorted(platforms))
        author = f"{rng.choice(handles)}{rng.randint(1, 999)}"
        likes = int(rng.expovariate(1 / 60))
        records.append({
            "id": f"post-{i + 1:04d}", "platform": platform, "author": author,
            "text": ". ".join(parts),
            "created_at": stamp(rng, datetime(2026, 1, 2, 8, tzinfo=UTC), i, n), "language": "en",
            "url": None if rng.random() < 0.2 else
            f"https://{platforms[platform]}/{author}/{rng.randrange(10**12):012d}",
            "engagement": {"likes": likes, "shares": likes // rng.randint(2, 12),
                           "replies": rng.randint(0, 5 + likes // 4)},
        })  # fmt: skip
    return records


def make_patents(rng: random.Random, n: int) -> list[dict]:
    tpl = blocks(PATENTS)
    assignees = sorted({c[0] for c in COMPANIES} | {"Kestrel Labs", "Ionic Works"})
    numbers = sorted(rng.sample(range(100000, 400000), n))
    weeks = sorted(rng.randrange(52) for _ in range(n))
    records = []
    for i in range(n):
        group = rng.choice(sorted(tpl))
        g = tpl[group]
        obj, purpose = rng.choice(g["O"]), rng.choice(g["P"])
        elems, wheres = rng.sample(g["C"], rng.randint(3, 4)), rng.sample(g["W"], 2)
        an = "An" if obj[0] in "aeiou" else "A"
        # Claim 1 is the long independent claim; dependent claims narrow it.
        claims = [f"{an} {obj} for {purpose}, comprising: " + "; ".join(elems[:-1])
                  + f"; and {elems[-1]}, wherein {wheres[0]}."]  # fmt: skip
        claims.append(f"The {obj} of claim 1, wherein {wheres[1]}.")
        claims += [f"The {obj} of claim 1, further comprising {c}." for c in g["C"]
                   if c not in elems]  # fmt: skip
        claims.append(f"A method of {purpose}, comprising operating the {obj} of claim 1.")
        abstract = (f"{an} {obj} for {purpose} is disclosed. The {obj} includes {elems[0]} and "
                    f"{elems[1]}. In some embodiments, {wheres[0]}.")  # fmt: skip
        pub = date(2026, 1, 1) + timedelta(weeks=weeks[i])  # US applications publish Thursdays
        records.append({
            "publication_number": f"US-2026-{numbers[i]:07d}-A1",
            "title": f"{obj.capitalize()} and method for {purpose}", "abstract": abstract,
            "claims": claims, "assignee": None if rng.random() < 0.1 else rng.choice(assignees),
            "inventors": [person(rng) for _ in range(rng.randint(1, 4))],
            "cpc_codes": group.split(" | "), "language": "en",
            "filing_date": (pub - timedelta(days=rng.randint(548, 720))).isoformat(),
            "publication_date": pub.isoformat(),
        })  # fmt: skip
    return records


def paraphrase(text: str) -> str:
    for old, new in SWAPS:
        text = text.replace(old, new)
    sents = text.rstrip(".").split(". ")
    return ". ".join(sents[1:] + sents[:1]) + "."


def plant(files: dict[str, list[dict]]) -> None:
    items = {p[0]: p for p in PORTFOLIO}
    for name, index, item, head, extra in NEAR:
        rec, text = files[name][index], paraphrase(items[item][4])
        text = f"{text} {extra.get('tail', '')}".strip()
        if name == "news":
            rec.update(title=head, body=text)
        elif name == "social":
            rec["text"] = f"{head} {text.lower()}".strip()
        else:  # claim 1 near-copied; the abstract names the same thing
            thing = text.split(" including")[0].rstrip(",")
            rec.update(title=head, abstract=f"{thing} is disclosed.")
            rec["claims"] = [text, f"A method of manufacturing the {head.lower()} of claim 1."]
        rec.update({k: v for k, v in extra.items() if k != "tail"})
    # The surge replaces the last posts, so the files keep their sizes and their time order.
    for k, text in enumerate(SURGE):
        rec = files["social"][len(files["social"]) - len(SURGE) + k]
        rec["text"] = text
        rec["created_at"] = (SURGE_START + timedelta(minutes=40 * k)).isoformat()


# Chinese news and posts, written for this project (2026-12-02), about the same fictional
# companies under the Chinese names of watchlist.yaml; appended after the English records
# (later in time), the language left for the worker to identify on most. news-zh-0001
# carries a Chinese translation of claim pc-001: a cross-lingual near copy.
# fmt: off
CHINESE_NEWS = [
    ("伏特瑞斯能源季度利润大增，股价创历史新高",
     "伏特瑞斯能源周二公布第三季度业绩，净利润同比增长42%，远超分析师预期。公司表示，储能电池订单"
     "大幅增加，并上调了全年收入指引。财报发布后，公司股价上涨9%，创下历史新高。"),
    ("某电池厂商新品被指抄袭伏特瑞斯能源专利",
     "一家电池初创公司在发布会上介绍其新型负极：一种用于锂离子电池的负极，包括铜集流体和活性层，"
     "活性层由分散在多孔石墨基体中的硅纳米颗粒构成，其中硅含量按重量计为百分之八至十五，"
     "并且弹性聚丙烯酸酯粘结剂将颗粒粘合在一起，吸收硅在嵌锂过程中的体积膨胀，使该层在反复充电后"
     "不会开裂。业内人士指出，这一描述与伏特瑞斯能源的专利权利要求几乎一致。"),
    ("天隼物流无人机配送事故引发监管调查",
     "民航监管部门宣布对天隼物流展开调查，起因是一架配送无人机在居民区坠落。公司股价当日下跌6%。"
     "天隼物流表示将全力配合调查，并暂停该型号无人机的运营。分析师担心此事将推迟公司的扩张计划。"),
    ("量子硅业与钴驰汽车签署芯片供应协议",
     "量子硅业宣布与钴驰汽车签署为期五年的芯片供应协议，为其下一代车型提供人工智能加速芯片。"
     "协议金额未披露。两家公司表示，首批芯片将于明年第二季度交付。"),
    ("潮汐银行遭遇网络攻击，手机银行服务中断",
     "潮汐银行周五确认，其手机银行应用因网络攻击中断服务近十个小时。银行表示客户资金安全，"
     "但部分客户数据可能已经泄露。受此影响，潮汐银行股价下跌4%，评级机构将其展望下调至负面。"),
    ("清泉科技宣布裁员两千人",
     "清泉科技宣布将在全球范围内裁减约两千个岗位，占员工总数的百分之十二。公司称，净水器需求疲软，"
     "利润连续三个季度下滑。首席执行官表示，重组完成后公司每年可节省约三亿元成本。"),
    ("北风机器人起诉澄明系统侵犯商业秘密",
     "北风机器人已向法院提起诉讼，指控澄明系统挖走其工程师并窃取视觉抓取技术的商业秘密。"
     "北风机器人要求赔偿并申请禁令。澄明系统否认所有指控，称将积极应诉。"),
    ("铁锐钢铁发行绿色债券用于低碳产线",
     "铁锐钢铁成功发行五十亿元绿色债券，募集资金将用于建设电弧炉低碳炼钢产线。"
     "公司表示，新产线投产后每吨钢的碳排放将减少约六成。"),
]
CHINESE_POSTS = [
    "伏特瑞斯能源这季度业绩太猛了，储能订单爆发，继续持有！",
    "天隼物流的无人机又出事了，这股真的拿不住了，今天先清仓",
    "潮汐银行的手机银行一整天登不上，客服也打不通，太让人失望了",
    "量子硅业拿下钴驰汽车的大单，芯片板块要起飞了",
    "清泉科技裁员两千人，利润一直往下掉，管理层到底在干什么",
    "听说北风机器人和澄明系统要打官司了，技术被偷这事闹大了",
    "亮泉咖啡新出的手冲豆子真不错，香气很足，推荐大家试试",
    "铁锐钢铁发绿色债券，低碳转型是好事，长期看好",
    "轨道农场的垂直农场产品价格太贵了，性价比一般",
    "明光健康的血糖贴片用了一个月，数据准，戴着也舒服，点赞",
]
# fmt: on


def add_chinese(files: dict[str, list[dict]]) -> None:
    news_at = datetime.fromisoformat(files["news"][-1]["published_at"])
    for k, (title, body) in enumerate(CHINESE_NEWS):
        files["news"].append({
            "id": f"news-zh-{k + 1:04d}", "url": f"https://caijing.example/2026/zh/{k + 1:04d}",
            "source": "财经快讯", "title": title,
            "published_at": (news_at + timedelta(hours=k + 1)).isoformat(),
            "body": body, "authors": [], "tags": ["zh"],
        })  # fmt: skip
    post_at = datetime.fromisoformat(files["social"][-1]["created_at"])
    for k, text in enumerate(CHINESE_POSTS):
        files["social"].append({
            "id": f"post-zh-{k + 1:04d}", "platform": "weibo", "author": f"股民{k + 1:03d}",
            "text": text, "created_at": (post_at + timedelta(minutes=20 * (k + 1))).isoformat(),
            "language": "zh" if k % 2 else None, "url": None,
            "engagement": {"likes": 10 * (k + 1), "shares": k, "replies": 2 * k},
        })  # fmt: skip


def bad_lines(good: dict[str, list[dict]]) -> dict[str, list[str]]:
    news, post, pat = good["news"][0], good["social"][0], dict(good["patents"][0])
    pat["publication_number"] = "US-2026-0999999-A1"  # bad lines never reuse a good id
    return {  # Each line is one Kafka record, so each must stay on one line.
        "bad-news": [
            '{"id": "news-bad-1", "title": ',  # truncated
            json.dumps([{**news, "id": "news-bad-2"}]),  # an array, not an object
            json.dumps({"id": "news-bad-3", "title": "Headline without a source or date"}),
            json.dumps({**news, "id": "news-bad-4", "published_at": "yesterday"}),
        ],
        "bad-social": [
            "not json at all",
            json.dumps({**post, "id": "post-bad-2", "engagement": {"likes": -5}}),
            json.dumps({**news, "id": "post-bad-3"}),  # a news article on the social topic
        ],
        "bad-patents": [
            json.dumps({**post, "id": "pat-bad-1"}),  # a social post on the patents topic
            json.dumps({**pat, "claims": "1. A widget comprising a frame."}),  # not a list
            json.dumps({k: v for k, v in pat.items() if k != "filing_date"}),
        ],
    }


def write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")


def main() -> None:
    rng = random.Random(SEED)
    files = {"news": make_news(rng, 240), "social": make_social(rng, 240),
             "patents": make_patents(rng, 120)}  # fmt: skip
    plant(files)
    add_chinese(files)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, records in files.items():
        write(OUT / f"{name}.jsonl", [json.dumps(r, ensure_ascii=False) for r in records])
    keys = ("id", "kind", "owner", "title", "text")
    items = [dict(zip(keys, p, strict=True)) | PARTIES.get(p[0], {}) for p in PORTFOLIO]
    write(OUT / "portfolio.jsonl", [json.dumps(item) for item in items])
    for name, lines in bad_lines(files).items():
        write(OUT / f"{name}.jsonl", lines)


if __name__ == "__main__":
    main()
