"""Text data: the real YouTube Spam Collection, vendored."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .registry import DataIntegrityError, read_vendored, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["YOUTUBE_SPAM_COLUMNS", "YOUTUBE_VIDEOS", "load_youtube_spam", "has_profanity"]

YOUTUBE_SPAM_COLUMNS = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS", "VIDEO"]
# video: (file, sha256 of the uncompressed CSV, rows, spam rows), in the collection's order
YOUTUBE_VIDEOS = {
    "Psy": ("Youtube01-Psy.csv.gz",
            "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535", 350, 175),
    "KatyPerry": ("Youtube02-KatyPerry.csv.gz",
                  "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b", 350, 175),
    "LMFAO": ("Youtube03-LMFAO.csv.gz",
              "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928", 438, 236),
    "Eminem": ("Youtube04-Eminem.csv.gz",
               "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76", 448, 245),
    "Shakira": ("Youtube05-Shakira.csv.gz",
                "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e", 370, 174),
}


@register("youtube_spam")
def load_youtube_spam(videos: Iterable[str] | None = None) -> "pd.DataFrame":
    """The real YouTube Spam Collection: comments from five music videos, labelled spam (1) or ham (0).

    Provenance: UCI Machine Learning Repository, "YouTube Spam Collection" (donated 2017-03-26,
    DOI 10.24432/C58885), licence CC BY 4.0. Cite: T. C. Alberto, J. V. Lochter, T. A. Almeida,
    *TubeSpam: Comment Spam Filtering on YouTube*, Proc. 14th IEEE ICMLA, 2015. The five CSV files the
    original labeling lab reads are vendored unchanged (gzip) in ``helpers/datasets/youtube_spam/``; each
    file's sha256, row count and spam count are checked on every load.

    Args:
        videos: keep only these videos (names of ``YOUTUBE_VIDEOS``: Psy, KatyPerry, LMFAO, Eminem,
            Shakira); ``None`` loads all five (1,956 comments, 1,005 spam).

    Returns:
        A DataFrame of ``YOUTUBE_SPAM_COLUMNS``: the file's ``COMMENT_ID, AUTHOR, DATE, CONTENT, CLASS``
        plus ``VIDEO``, the file a row came from; files in the order asked (the collection's order by
        default), rows in file order. The text is as scraped: HTML entities, ``<br />`` tags and many
        trailing byte-order marks (U+FEFF) are left in, as the original lab leaves them; 245 rows have
        no ``DATE``.

    Raises:
        ValueError: ``videos`` is not a non-empty list of known video names, each named once.
        DataIntegrityError: a vendored file is missing or not the expected copy (checksum, row or spam count).

    Introduced in course1_intro/C1_W3_Lab_1_Data_Labeling.ipynb.
    """
    import pandas as pd

    if videos is not None and (isinstance(videos, (str, bytes)) or not isinstance(videos, Iterable)):
        hint = f"; for one video write [{videos!r}]" if isinstance(videos, str) else ""
        raise ValueError(f"videos must be a non-empty list of {list(YOUTUBE_VIDEOS)}, got {videos!r}{hint}")
    names = list(YOUTUBE_VIDEOS) if videos is None else list(videos)
    unknown = [v for v in names if not isinstance(v, str) or v not in YOUTUBE_VIDEOS]
    if not names or unknown:
        raise ValueError(f"videos must be a non-empty list of {list(YOUTUBE_VIDEOS)}, got {videos!r}"
                         + (f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""))
    repeated = sorted({v for v in names if names.count(v) > 1})
    if repeated:
        raise ValueError(f"videos lists {', '.join(map(repr, repeated))} more than once; list each video once")
    frames = []
    for video in names:
        name, digest, rows, spam = YOUTUBE_VIDEOS[video]
        df = pd.read_csv(io.BytesIO(read_vendored("youtube_spam", name, digest)), encoding="utf-8")
        if len(df) != rows or int(df["CLASS"].sum()) != spam:
            raise DataIntegrityError(f"youtube_spam {name}: expected {rows} rows ({spam} spam), "
                                     f"read {len(df)} ({int(df['CLASS'].sum())})")
        frames.append(df.assign(VIDEO=video))
    return pd.concat(frames, ignore_index=True)[YOUTUBE_SPAM_COLUMNS]


# Stems of English swear words and slurs, matched at the start of a word ("shitty" too, "Scunthorpe" not).
_PROFANE_STEMS = ("fuck", "shit", "bitch", "cunt", "dick", "asshole", "bastard", "whore", "slut", "nigg",
                  "fag", "retard", "pussy", "porn", "wank", "twat", "motherf")


def has_profanity(texts: "pd.Series") -> "pd.Series":
    """True for each text holding a swear word or slur (a short English list, matched case-insensitively
    at the start of a word), so a displayed sample can leave those comments out.

    Introduced in course1_intro/C1_W3_Lab_1_Data_Labeling.ipynb.
    """
    import pandas as pd

    if not isinstance(texts, pd.Series):
        raise TypeError(f"has_profanity needs a pandas Series of texts, got {type(texts).__name__}")
    pattern = r"(?i)\b(?:" + "|".join(_PROFANE_STEMS) + ")"
    return texts.astype(str).str.contains(pattern, regex=True)
