"""User feedback from `/v1/feedback` as the judge of what a good answer is.

Only calls with feedback are sampled for it. When the user liked the app's answer, that answer
is a known-good reference and a candidate scores its (lexical) agreement with it; when the user
disliked it there is no reference, so the sample is shown but not scored. The feedback itself
is always listed among the sample's verdicts.
"""

from __future__ import annotations

from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict
from apps.replay.evaluators.exact import normalise
from apps.replay.evaluators.similarity import lexical_similarity

LIKED = 0.5


def feedback_verdict(item: EvalInput) -> Verdict | None:
    if item.feedback is None:
        return None
    liked = item.feedback >= LIKED
    comment = f": {item.feedback_comment[:200]}" if item.feedback_comment else ""
    return Verdict(
        "user_feedback",
        item.feedback,
        f"the user {'liked' if liked else 'disliked'} the app's answer ({item.feedback:.2f}){comment}",
        {"on": "baseline"},
    )


class FeedbackAgreement(Evaluator):
    name = "feedback"
    label = "User feedback"

    def score(self, item: EvalInput) -> list[Verdict]:
        user = feedback_verdict(item)
        if user is None:
            return [Verdict("feedback", None, "no user feedback on this call")]
        if item.feedback is not None and item.feedback < LIKED:
            return [
                Verdict(
                    "feedback", None, "the user disliked the app's answer: no good reference to compare with"
                ),
                user,
            ]
        if normalise(item.candidate) == normalise(item.baseline):
            value = 1.0
        else:
            value = round(lexical_similarity(item.candidate, item.baseline), 6)
        return [Verdict("feedback", value, f"agreement with an answer the user liked: {value:.0%}"), user]
