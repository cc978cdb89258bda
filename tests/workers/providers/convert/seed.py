"""One Convert project as the end-to-end tests seed it into the sandbox."""

from __future__ import annotations

from typing import Any

PROJECT, EXPERIENCE, GOAL, HYPOTHESIS, AUDIENCE = "1001", "2002", "77", "55", "66"
BASELINE, VARIANT = "3001", "3002"


def seed(**experience: Any) -> dict[str, Any]:
    return {
        "projects": [{"id": PROJECT, "name": "Shop"}],
        "goals": [{"goal_id": GOAL, "project_id": PROJECT, "goal_name": "Buy"}],
        "experiences": [
            {
                "id": EXPERIENCE,
                "project_id": PROJECT,
                "name": "Hero",
                "experience_status": "draft",
                "goals": [GOAL],
                "variations": [{"id": BASELINE, "name": "Original"}, {"id": VARIANT, "name": "B"}],
                **experience,
            }
        ],
        "hypotheses": [{"id": HYPOTHESIS, "project_id": PROJECT, "name": "Shorter form"}],
        "audiences": [{"audience_id": AUDIENCE, "project_id": PROJECT, "audience_name": "Back"}],
    }
