"""Text for synthetic reviews, tickets and interaction notes, chosen without per-row loops.

Review text is put together from the phrases of its language and rating band (see
`review_phrases.py`), so that text, rating and language agree.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.synth.review_phrases import BANDS, REVIEWS

TICKET_SUBJECTS = {
    "billing": (
        "Charged twice for my order",
        "Invoice shows the wrong amount",
        "Promo code was not applied",
        "Question about a pending charge",
    ),
    "shipping": (
        "Where is my order?",
        "Tracking has not updated for days",
        "Package marked delivered but not received",
        "Delivery is late",
    ),
    "product_defect": (
        "Item arrived broken",
        "Product stopped working",
        "Zip broke after first use",
        "Missing parts in the box",
    ),
    "returns": (
        "How do I return an item?",
        "Refund not received yet",
        "Exchange for a different size",
        "Return label does not work",
    ),
    "account": (
        "Cannot log in to my account",
        "Please update my email address",
        "Delete my account",
        "Password reset email never arrives",
    ),
    "how_to": (
        "How do I care for this product?",
        "Which size should I order?",
        "Can I change my delivery address?",
        "Do you ship internationally?",
    ),
}

# sentiment band of an interaction -> short agent or system notes
NOTES = {
    "negative": (
        "Customer upset about a late delivery.",
        "Complained that the item arrived damaged.",
        "Asked for a refund; frustrated by the wait.",
        "Unhappy with the answer from support.",
        "Threatened to cancel future orders.",
    ),
    "mixed": (
        "Asked about the status of an order.",
        "Wanted to change the delivery address.",
        "Requested the size guide.",
        "Asked how to apply a discount code.",
        "Checked return policy details.",
    ),
    "positive": (
        "Thanked the agent for the quick help.",
        "Very happy with the new product.",
        "Left a compliment for the delivery team.",
        "Said they will recommend the shop to friends.",
        "Pleased that the issue was fixed on the first contact.",
    ),
}


def band_of_rating(rating: np.ndarray) -> np.ndarray:
    """0 negative (1-2 stars), 1 mixed (3), 2 positive (4-5).

    >>> band_of_rating(np.array([1, 2, 3, 4, 5])).tolist()
    [0, 0, 1, 2, 2]
    """
    return np.select([rating <= 2, rating == 3], [0, 1], 2)


def band_of_sentiment(score: np.ndarray) -> np.ndarray:
    """0 below -0.25, 2 above 0.25, else 1."""
    return np.select([score < -0.25, score > 0.25], [0, 2], 1)


def compose_reviews(
    language: np.ndarray, band: np.ndarray, rng: np.random.Generator
) -> tuple[pa.Array, pa.Array]:
    """Titles and texts for reviews in the given languages (index into REVIEWS) and bands."""
    titles, texts = [], []
    for lang, bands in enumerate(REVIEWS.values()):
        for b, name in enumerate(BANDS):
            rows = np.flatnonzero((language == lang) & (band == b))
            titles.append((rows, _choose(bands[name][0], len(rows), rng)))
            texts.append((rows, _join([_choose(part, len(rows), rng) for part in bands[name][1:]])))
    return _scatter(titles, len(language)), _scatter(texts, len(language))


def _choose(options: tuple[str, ...], n: int, rng: np.random.Generator) -> pa.Array:
    return pa.array(options, pa.string()).take(pa.array(rng.integers(len(options), size=n)))


def _join(parts: list[pa.Array]) -> pa.Array:
    return pc.binary_join_element_wise(*parts, " ")


def _scatter(pieces: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.Array:
    """Put each piece's values back at its rows."""
    rows = np.concatenate([r for r, _ in pieces]) if pieces else np.zeros(0, np.int64)
    values = pa.concat_arrays([v for _, v in pieces]) if pieces else pa.array([], pa.string())
    where = np.empty(n, np.int64)
    where[rows] = np.arange(len(rows))
    return values.take(pa.array(where))


def pick_notes(band: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """One note per row from the notes of its sentiment band."""
    pieces = []
    for b, name in enumerate(BANDS):
        rows = np.flatnonzero(band == b)
        pieces.append((rows, _choose(NOTES[name], len(rows), rng)))
    return _scatter(pieces, len(band))


def pick_subjects(category: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """One subject per ticket from the subjects of its category (index into TICKET_SUBJECTS)."""
    pieces = []
    for c, subjects in enumerate(TICKET_SUBJECTS.values()):
        rows = np.flatnonzero(category == c)
        pieces.append((rows, _choose(subjects, len(rows), rng)))
    return _scatter(pieces, len(category))
