"""The officer and unit indices with a survey answered "không áp dụng" (issue 18): the face of a
citizen the factor did not concern never stands in for that factor's answer."""

from __future__ import annotations

from datetime import date

from hailong.contract.scale import Factor
from hub.domain.indices import DossierFacts, RatingFacts, dossier_points
from tests.hub.domain.test_indices import AS_OF, TT01, UNIT


def _dossier(*ratings: RatingFacts) -> DossierFacts:
    return DossierFacts(
        f"{UNIT}-260701-0001", UNIT, "CB001", date(2026, 7, 1), None, None, None, ratings
    )


def test_a_factor_answered_not_applicable_leaves_its_indicator_without_that_rating() -> None:
    seven = next(i for i in TT01.indicators if i.number == 7)
    by_feedback = TT01.model_copy(
        update={
            "indicators": tuple(
                i.model_copy(update={"factor": Factor.FEEDBACK}) if i is seven else i
                for i in TT01.indicators
            )
        }
    )
    content = RatingFacts("CB001", 5)
    unconcerned = RatingFacts("CB001", 1, {}, frozenset({"feedback"}))
    skipped = RatingFacts("CB001", 1)  # a skipped question: the face stands in, as before
    assert dossier_points(_dossier(content, unconcerned), by_feedback, AS_OF) == {7: 2}
    assert dossier_points(_dossier(unconcerned), by_feedback, AS_OF) == {}  # no data
    assert dossier_points(_dossier(content, skipped), by_feedback, AS_OF) == {7: 0}
    # The shipped criteria read the officer factor, which every citizen is asked: unchanged.
    assert dossier_points(_dossier(unconcerned), TT01, AS_OF) == {7: 0}
