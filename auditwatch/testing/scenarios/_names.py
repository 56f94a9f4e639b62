"""Name, place and postcode material for the synthetic force (static data, no randomness here)."""

from __future__ import annotations

from typing import Final

# Common British surnames with approximate population counts (bearers in England and Wales).
COMMON_SURNAMES: Final[tuple[tuple[str, int], ...]] = (
    ("Smith", 546000), ("Jones", 418000), ("Williams", 288000), ("Taylor", 254000),
    ("Brown", 231000), ("Davies", 220000), ("Evans", 172000), ("Wilson", 160000),
    ("Thomas", 152000), ("Johnson", 150000), ("Roberts", 149000), ("Robinson", 125000),
    ("Thompson", 124000), ("Wright", 124000), ("Walker", 118000), ("White", 116000),
    ("Edwards", 113000), ("Hughes", 111000), ("Green", 110000), ("Hall", 108000),
    ("Lewis", 106000), ("Harris", 105000), ("Clarke", 101000), ("Patel", 100000),
    ("Jackson", 99000), ("Wood", 98000), ("Turner", 95000), ("Martin", 94000),
    ("Cooper", 92000), ("Hill", 91000), ("Ward", 90000), ("Morris", 89000),
    ("Moore", 88000), ("Clark", 87000), ("Lee", 86000), ("King", 85000),
    ("Baker", 84000), ("Harrison", 83000), ("Morgan", 82000), ("Allen", 81000),
    ("James", 80000), ("Scott", 79000), ("Phillips", 78000), ("Watson", 77000),
    ("Davis", 76000), ("Parker", 75000), ("Price", 74000), ("Bennett", 73000),
    ("Young", 72000), ("Griffiths", 71000), ("Mitchell", 70000), ("Kelly", 69000),
    ("Cook", 68000), ("Carter", 67000), ("Richardson", 66000), ("Bailey", 65000),
    ("Collins", 64000), ("Bell", 63000), ("Shaw", 62000), ("Murphy", 61000),
    ("Miller", 60000), ("Cox", 59000), ("Richards", 58000), ("Khan", 57000),
    ("Marshall", 56000), ("Anderson", 55000), ("Simpson", 54000), ("Ellis", 53000),
    ("Adams", 52000), ("Singh", 51000), ("Begum", 50000), ("Wilkinson", 49000),
    ("Foster", 48000), ("Chapman", 47000), ("Powell", 46000), ("Webb", 45000),
    ("Rogers", 44000), ("Gray", 43000), ("Mason", 42000), ("Ali", 41000),
    ("Hunt", 40000), ("Hussain", 39000), ("Campbell", 38000), ("Matthews", 37000),
    ("Owen", 36000), ("Palmer", 35000), ("Holmes", 34000), ("Mills", 33000),
    ("Barnes", 32000), ("Knight", 31000), ("Lloyd", 30000), ("Butler", 29000),
    ("Russell", 28000), ("Barker", 27000), ("Fisher", 26000), ("Stevens", 25000),
    ("Jenkins", 24000), ("Murray", 23000), ("Dixon", 22000), ("Harvey", 21000),
    ("O'Brien", 20500), ("O'Connor", 20000),
)

# Distinctive spellings used as rare surnames (accents, apostrophes, hyphens on purpose).
RARE_SURNAMES: Final[tuple[str, ...]] = (
    "Ó Súilleabháin", "D'Arcy-Finch", "Nørgaard", "Gruffydd", "Quiñones", "Zbrożek",
    "Fairweather-Lowe", "Pengelly", "Treloar", "Abernethy", "Ffoulkes", "Szymańska",
    "Ellershaw", "Polglase", "Tregenza", "Heseltine", "Przybylski", "Ní Bhriain",
    "MacGillivray", "Çelik", "Öztürk", "Dąbrowski", "Łukasik", "Brontë", "Lefèvre",
    "Müller-Hart", "Ó Ceallaigh", "Saint-Clair", "Vaňková", "Goëtz", "Mac an tSaoi",
    "Ruairí-Byrne", "Penhaligon", "Trevithick", "Chenoweth", "Carlyon", "Nankervis",
    "Ashworth-Pyke", "Blennerhassett", "Featherstonehaugh", "Cholmondeley", "Vavasour",
    "Molyneux", "Throckmorton", "Postlethwaite", "Gillespie-Rae", "Quarmby", "Sillitoe",
)
_RARE_PARTS: Final = (
    ("Tre", "Pen", "Pol", "Ros", "Lan", "Car", "Bos", "Hel", "Nan", "Tol", "Kel", "Mor"),
    ("gar", "wen", "dre", "nan", "vel", "hal", "ver", "lis", "tow", "ric", "dun", "sal"),
    ("ick", "ow", "en", "ath", "ey", "oe", "is", "an", "ock", "ell", "ard", "ton"),
)


def generated_rare_surnames() -> list[str]:
    """Cornish-looking surnames built from syllables: unique, and absent from the common list."""
    common = {name for name, _ in COMMON_SURNAMES}
    out = [a + b + c for a in _RARE_PARTS[0] for b in _RARE_PARTS[1] for c in _RARE_PARTS[2]]
    return [name for name in out if name not in common]


FORENAMES: Final[tuple[str, ...]] = (
    "Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Muhammad", "Thomas", "Oscar",
    "William", "James", "Leo", "Alfie", "Henry", "Joshua", "Freddie", "Archie", "Ethan", "Isaac",
    "Amelia", "Olivia", "Isla", "Emily", "Poppy", "Ava", "Isabella", "Jessica", "Lily", "Sophie",
    "Grace", "Sophia", "Mia", "Evie", "Ruby", "Ella", "Scarlett", "Chloe", "Daisy", "Freya",
    "David", "Paul", "Mark", "Andrew", "Richard", "Stephen", "Michael", "Christopher", "Peter", "John",
    "Susan", "Sarah", "Karen", "Julie", "Helen", "Claire", "Nicola", "Joanne", "Lisa", "Emma",
    "Seán", "Siobhán", "Zoë", "Chloé", "Renée", "José", "Aoife", "Niamh", "Ciarán", "Dóra",
    "Björn", "Anaïs", "Łucja", "Priya", "Aisha", "Fatima", "Kwame", "Chidi", "Mei", "Hiroshi",
    "Mary-Jane", "Jean-Luc", "Anne-Marie", "D'Andre",
)

STREETS: Final[tuple[str, ...]] = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queen's Road", "King's Road", "Mill Lane", "School Lane", "The Crescent",
    "St John's Close", "Chapel Street", "Orchard Way", "Meadow View", "Albert Road", "Grange Road",
)
TOWNS: Final[tuple[str, ...]] = (
    "Ashford", "Bramley", "Castleton", "Dunmore", "Elmstead", "Fairhaven", "Glenbury",
    "Hartwell", "Ivybridge", "Kingsmead",
)
# Outward codes of the fictional force area; inward codes are generated.
OUTWARD_CODES: Final[tuple[str, ...]] = (
    "AB1", "AB2", "AB3", "AB4", "AB5", "AB10", "AB11", "AB12", "CD1", "CD2", "CD3", "CD4", "CD5",
    "CD6", "CD7", "EF1", "EF2", "EF3", "EF4", "EF5", "EF9", "GH1", "GH2", "GH3", "GH4", "GH5",
)
INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward codes (no C I K M O V)

VIP_CATEGORIES: Final[tuple[tuple[str, str], ...]] = (
    ("celebrity", "Television presenter"),
    ("celebrity", "Premier League footballer"),
    ("politician", "Member of Parliament"),
    ("politician", "Police and Crime Commissioner"),
    ("high_profile_case", "Victim in nationally reported case"),
    ("protected_person", "Witness protection referral"),
)

RELATIONSHIPS: Final[tuple[str, ...]] = (
    "Ex-partner", "Friend (previous convictions)", "Brother-in-law", "Neighbour", "Business partner",
    "Childhood friend", "Cousin",
)
