"""Fixed vocabularies of the synthetic product: event names, features, paths, prices, names."""

from __future__ import annotations

import numpy as np


def split_words(text: str) -> tuple[str, ...]:
    """Space-separated words; an underscore stands for a space inside one.

    >>> split_words("Ana de_Vries")
    ('Ana', 'de Vries')
    """
    return tuple(w.replace("_", " ") for w in text.split())


APP_URL = "https://app.sextant-notes.example"
SITE_URL = "https://www.sextant-notes.example"

# Features in order of popularity; each later one is used less (Zipf-like, exponent 1.1).
FEATURES = (
    "page_edited",
    "search_performed",
    "block_added",
    "template_used",
    "page_moved",
    "database_created",
    "file_uploaded",
    "mention_added",
    "page_duplicated",
    "ai_assist_used",
    "calendar_view_opened",
    "board_view_opened",
    "reminder_set",
    "export_pdf",
    "mobile_app_opened",
    "integration_connected",
    "web_clipper_used",
    "table_filtered",
    "page_locked",
    "formula_added",
    "sidebar_customized",
    "emoji_reacted",
    "page_history_viewed",
    "import_completed",
    "synced_block_created",
    "automation_created",
    "export_markdown",
    "api_token_created",
    "workspace_analytics_viewed",
    "page_archived",
    "guest_added",
    "dark_mode_enabled",
)
FEATURE_ZIPF = 1.1

# Who uses a feature more than its popularity says: by segment, by paying, by device.
SEGMENT_AFFINITY = {
    "small_team": {
        "database_created": 1.8,
        "board_view_opened": 2.0,
        "mention_added": 1.6,
        "integration_connected": 1.6,
        "automation_created": 1.8,
        "guest_added": 1.5,
    },
    "enterprise": {
        "database_created": 2.2,
        "board_view_opened": 1.8,
        "integration_connected": 2.2,
        "page_locked": 2.5,
        "synced_block_created": 2.5,
        "api_token_created": 3.0,
        "workspace_analytics_viewed": 3.0,
        "automation_created": 2.5,
    },
    "education": {
        "export_pdf": 2.5,
        "calendar_view_opened": 2.0,
        "template_used": 1.6,
        "reminder_set": 1.8,
        "file_uploaded": 1.4,
    },
    "individual": {
        "web_clipper_used": 2.0,
        "emoji_reacted": 1.5,
        "dark_mode_enabled": 1.6,
        "reminder_set": 1.3,
    },
}
PAID_AFFINITY = {
    "ai_assist_used": 2.5,
    "page_history_viewed": 3.0,
    "automation_created": 2.0,
    "export_pdf": 1.5,
    "workspace_analytics_viewed": 2.0,
    "guest_added": 1.5,
    "api_token_created": 1.8,
}
DEVICE_AFFINITY = {
    "mobile": {"mobile_app_opened": 12.0, "web_clipper_used": 0.2, "formula_added": 0.3},
    "tablet": {"mobile_app_opened": 5.0, "formula_added": 0.5},
}

# Feature-specific properties: (key, values); numbers stay numbers in the JSON.
FEATURE_PROPERTIES: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "search_performed": ("results", (0, 1, 2, 3, 5, 8, 13, 21, 34, 55)),
    "template_used": (
        "template",
        ("Roadmap", "Meeting notes", "Wiki", "Reading list", "Habit tracker", "Sprint board"),
    ),
    "file_uploaded": ("file_type", ("pdf", "png", "jpg", "docx", "csv", "xlsx")),
    "ai_assist_used": ("action", ("summarize", "draft", "translate", "improve_writing")),
    "integration_connected": ("integration", ("slack", "github", "google_drive", "jira", "figma")),
    "export_pdf": ("pages", (1, 2, 3, 4, 6, 9, 14)),
    "database_created": ("view", ("table", "board", "calendar", "gallery", "list")),
}

COLLABORATION = ("page_shared", "comment_added", "member_invited")
COLLABORATION_MIX = {  # by segment: share of each collaboration event
    "individual": (0.70, 0.25, 0.05),
    "small_team": (0.40, 0.40, 0.20),
    "enterprise": (0.35, 0.45, 0.20),
    "education": (0.50, 0.35, 0.15),
}

# Every event name the generator writes; codes are positions in this tuple.
EVENT_NAMES = (
    "$pageview",
    "$pageleave",
    "$identify",
    "signed_up",
    "$feature_flag_called",
    "page_created",
    "subscription_started",
    "invoice_paid",
    *COLLABORATION,
    *FEATURES,
)
CODE = {name: code for code, name in enumerate(EVENT_NAMES)}
FIRST_FEATURE = CODE[FEATURES[0]]
FIRST_COLLABORATION = CODE[COLLABORATION[0]]

MARKETING_PATHS = (
    "/",
    "/pricing",
    "/templates",
    "/product",
    "/enterprise",
    "/customers",
    "/download",
    "/blog/second-brain",
    "/blog/meeting-notes-that-work",
    "/blog/team-wiki-guide",
    "/blog/roadmap-templates",
    "/blog/study-planner",
    "/signup",
)
SIGNUP_PATH = len(MARKETING_PATHS) - 1
BLOG_PATHS = tuple(i for i, p in enumerate(MARKETING_PATHS) if p.startswith("/blog/"))
# The page a visitor lands on, by channel (indices into MARKETING_PATHS).
LANDING = {
    "organic_search": (*BLOG_PATHS, 0, 2),
    "content": BLOG_PATHS,
    "paid_search": (0, 1, 3),
    "social": (0, 2, 7),
    "referral": (0, 2),
    "direct": (0, 1),
}
APP_SECTIONS = ("/app", "/app/welcome", "/app/search", "/app/templates", "/app/settings")
APP_PAGES = 400  # "/app/page/<n>"
APP_PATHS = APP_SECTIONS + tuple(f"/app/page/{n}" for n in range(1, APP_PAGES + 1))
WELCOME_PATH = 1
PATHS = MARKETING_PATHS + APP_PATHS
FIRST_APP_PATH = len(MARKETING_PATHS)

PRICES = {"plus": 10, "business": 18, "enterprise": 25}  # USD per seat and month

FIRST_NAMES = split_words(
    "Olivia Liam Emma Noah Ava Lucas Sophia Mateo Mia Leo Amelia Arjun Priya Hiro Yuki Sakura "
    "Lena Jonas Clara Felix Camille Hugo Chloe Louis Lucia Pablo Sofia Diego Ana Joao Beatriz "
    "Rafael Aisha Omar Fatima Ravi Ananya Kenji Mei Chen Ingrid Lars Freya Sven Maya Ethan "
    "Isla Jack Grace Oscar Zoe Finn Nora Theo Elena Marco Giulia Sara David Hannah"
)
LAST_NAMES = split_words(
    "Smith Johnson Garcia Martinez Brown Miller Davis Lopez Wilson Anderson Taylor Thomas "
    "Moore Jackson Martin Lee Walker Hall Young King Wright Scott Green Baker Nguyen Patel "
    "Sharma Gupta Singh Tanaka Suzuki Sato Mueller Schmidt Schneider Fischer Weber Dubois "
    "Moreau Laurent Bernard Silva Santos Oliveira Costa Pereira Rossi Russo Fernandez Gomez "
    "Jansen de_Vries Bakker Visser Kowalski Novak Ivanova Cohen Murphy Kelly"
)
FREE_MAIL = ("gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com")
ROLES = (
    "founder",
    "engineer",
    "designer",
    "product_manager",
    "marketer",
    "operations",
    "writer",
    "student",
    "teacher",
    "researcher",
)
ROLE_MIX = {  # by segment, over ROLES
    "individual": (2, 3, 2, 1, 2, 1, 3, 2, 0.5, 1),
    "small_team": (2, 4, 2, 3, 2, 2, 1, 0, 0, 0.5),
    "enterprise": (0.5, 5, 2, 3, 2, 3, 1, 0, 0, 1),
    "education": (0, 0, 0, 0, 0, 0.5, 0, 6, 2.5, 1.5),
}
WORKSPACE_ADJECTIVES = split_words(
    "Blue Bright North Quiet Swift Golden Silver Open Clear Bold Little Red Green Iron Cedar "
    "Maple Summit Harbor River Lunar Solar Urban Coastal Polar"
)
WORKSPACE_NOUNS = split_words(
    "Harbor Peak Fox Oak Wave Field Stone Bridge Forge Lantern Orbit Compass Meadow Falcon "
    "Pixel Atlas Beacon Canyon Ember Grove Delta Vertex Willow Quarry"
)
TEAM_SUFFIXES = ("Labs", "Studio", "Inc", "Group", "Partners", "Co", "Systems", "Collective")
SCHOOL_SUFFIXES = ("University", "College", "Academy", "Institute")


def weigh_features(segments: list[str], devices: list[str]) -> np.ndarray:
    """Feature popularity for every (segment, paying, device), shape (S * 2 * D, F)."""
    base = 1.0 / np.arange(1, len(FEATURES) + 1) ** FEATURE_ZIPF
    rows = []
    for segment in segments:
        for paying in (False, True):
            for device in devices:
                weight = base.copy()
                for i, name in enumerate(FEATURES):
                    weight[i] *= SEGMENT_AFFINITY.get(segment, {}).get(name, 1.0)
                    weight[i] *= PAID_AFFINITY.get(name, 1.0) if paying else 1.0
                    weight[i] *= DEVICE_AFFINITY.get(device, {}).get(name, 1.0)
                rows.append(weight)
    return np.array(rows)
