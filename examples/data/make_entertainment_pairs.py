"""Write entertainment_search_pairs.csv: a small labelled sample of search queries and results.

How it is made (so its labels can be trusted for what they are): a catalogue of films, music
and games, grouped into franchises or artists. For each item, queries are written the way
people type them: the title, lower case, abbreviated, with typos, with extra words
("full movie", "lyrics", "walkthrough"). Each query is paired with results:
- the item itself: grade 1 (relevant);
- another item of the same franchise or artist: grade 0.5 (related, not what was asked);
- an item of another franchise: grade 0 (noise).
Grades therefore come from the catalogue's structure, not from human raters; the noise
(typos, slang, out-of-vocabulary words) is typed by hand below. Run this file to rebuild the
CSV (the seed fixes the sample).
"""

import csv
import random
from pathlib import Path

CATALOGUE = {
    "star wars": ["Star Wars: A New Hope (1977)", "Star Wars: The Empire Strikes Back", "Star Wars: Return of the Jedi",
                  "The Mandalorian (TV series)"],
    "harry potter": ["Harry Potter and the Philosopher's Stone", "Harry Potter and the Chamber of Secrets",
                     "Fantastic Beasts and Where to Find Them"],
    "the matrix": ["The Matrix (1999)", "The Matrix Reloaded", "The Matrix Resurrections"],
    "frozen": ["Frozen (2013 film)", "Frozen II", "Let It Go - Idina Menzel"],
    "taylor swift": ["Taylor Swift - Shake It Off", "Taylor Swift - Blank Space", "Taylor Swift - Anti-Hero"],
    "queen": ["Queen - Bohemian Rhapsody", "Queen - We Will Rock You", "Bohemian Rhapsody (2018 film)"],
    "zelda": ["The Legend of Zelda: Breath of the Wild", "The Legend of Zelda: Ocarina of Time",
              "Zelda: Tears of the Kingdom"],
    "mario": ["Super Mario Bros. (NES)", "Mario Kart 8 Deluxe", "The Super Mario Bros. Movie"],
    "minecraft": ["Minecraft (video game)", "Minecraft Dungeons", "A Minecraft Movie"],
    "beyonce": ["Beyonce - Halo", "Beyonce - Single Ladies", "Beyonce - Crazy in Love"],
}
QUERIES = {
    "Star Wars: A New Hope (1977)": ["star wars", "star wars a new hope", "strar wars 4", "star wars ep iv full movie"],
    "Star Wars: The Empire Strikes Back": ["empire strikes back", "star wars 5", "empire strikes bak"],
    "Star Wars: Return of the Jedi": ["return of the jedi", "star wars ep 6", "retrun of jedi"],
    "The Mandalorian (TV series)": ["mandalorian", "the mando series", "mandalorain season 1"],
    "Harry Potter and the Philosopher's Stone": ["harry potter 1", "philosophers stone", "hary poter stone"],
    "Harry Potter and the Chamber of Secrets": ["chamber of secrets", "harry potter 2 movie", "hp chamber secrets"],
    "Fantastic Beasts and Where to Find Them": ["fantastic beasts", "fantastic beats movie", "newt scamander film"],
    "The Matrix (1999)": ["the matrix", "matrix 1999 keanu", "the matirx"],
    "The Matrix Reloaded": ["matrix reloaded", "matrix 2", "matrx reloaded"],
    "The Matrix Resurrections": ["matrix resurrections", "matrix 4 2021", "matrix resurection"],
    "Frozen (2013 film)": ["frozen", "frozen movie", "frozen elsa anna"],
    "Frozen II": ["frozen 2", "frozen ii into the unknown", "frozzen 2"],
    "Let It Go - Idina Menzel": ["let it go", "let it go lyrics", "let it goo frozen song"],
    "Taylor Swift - Shake It Off": ["shake it off", "taylor swift shake it off lyrics", "shake it of tswift"],
    "Taylor Swift - Blank Space": ["blank space", "taylor swift blank space", "blnk space"],
    "Taylor Swift - Anti-Hero": ["anti hero", "antihero taylor", "taylor swift antihero lyrics"],
    "Queen - Bohemian Rhapsody": ["bohemian rhapsody", "bohemian rapsody queen", "queen bohemian song"],
    "Queen - We Will Rock You": ["we will rock you", "we will rock u", "queen rock you"],
    "Bohemian Rhapsody (2018 film)": ["bohemian rhapsody movie", "freddie mercury film", "bohemian rhapsody 2018"],
    "The Legend of Zelda: Breath of the Wild": ["breath of the wild", "botw", "zelda botw walkthrough"],
    "The Legend of Zelda: Ocarina of Time": ["ocarina of time", "zelda oot", "ocarina of tme n64"],
    "Zelda: Tears of the Kingdom": ["tears of the kingdom", "totk", "zelda totk release"],
    "Super Mario Bros. (NES)": ["super mario bros", "mario nes", "supr mario bros 1985"],
    "Mario Kart 8 Deluxe": ["mario kart", "mario kart 8", "mariokart deluxe switch"],
    "The Super Mario Bros. Movie": ["mario movie", "super mario movie 2023", "mario film"],
    "Minecraft (video game)": ["minecraft", "minecraft download", "mincraft"],
    "Minecraft Dungeons": ["minecraft dungeons", "mc dungeons", "minecraft dungeon game"],
    "A Minecraft Movie": ["minecraft movie", "minecraft film jack black", "minecraft movie trailer"],
    "Beyonce - Halo": ["halo beyonce", "beyonce halo lyrics", "halo song"],
    "Beyonce - Single Ladies": ["single ladies", "put a ring on it", "beyonce single ladys"],
    "Beyonce - Crazy in Love": ["crazy in love", "crazy in love beyonce", "crazy in luv"],
}


def main(n_per_query: int = 4, seed: int = 7) -> None:
    rng = random.Random(seed)
    franchise_of = {item: f for f, items in CATALOGUE.items() for item in items}
    everything = list(franchise_of)
    rows = []
    for item, queries in QUERIES.items():
        same = [x for x in CATALOGUE[franchise_of[item]] if x != item]
        other = [x for x in everything if franchise_of[x] != franchise_of[item]]
        for query in queries:
            rows.append((query, item, 1.0))
            rows.append((query, rng.choice(same), 0.5))
            for result in rng.sample(other, n_per_query - 2):
                rows.append((query, result, 0.0))
    rng.shuffle(rows)
    path = Path(__file__).with_name("entertainment_search_pairs.csv")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["query", "result", "grade"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} pairs to {path}")


if __name__ == "__main__":
    main()
