import random
from dataclasses import replace

import pytest

from routing.dispatch import next_hospital, should_escalate
from routing.errors import RoutingInputError
from routing.geo import haversine_m
from routing.hospitals import HospitalIndex, RoadFactorEstimator, rank


@pytest.fixture(scope="module")
def hospitals(directory):
    return list(directory.hospitals.values())


def test_nearest_emergency_hospital(hospitals):
    first = rank(10.9806, 106.6520, hospitals)[0]  # Phú Cường, Thủ Dầu Một
    assert first.code == "BVDK_TINH"  # TTYT_TDM is nearer but has no emergency department
    assert first.distance_m > 0 and first.eta_s > 0
    assert "km" in first.reasons[0].vi and "minutes" in first.reasons[0].en


def test_ranked_by_travel_time_with_reasons(hospitals):
    ranked = rank(10.93, 106.71, hospitals)
    assert [c.eta_s for c in ranked] == sorted(c.eta_s for c in ranked)
    assert len(ranked) == 18  # all but the one without an emergency department


def test_a_full_or_inactive_hospital_is_skipped(hospitals):
    full = [replace(h, available=False) if h.code == "BVDK_TINH" else h for h in hospitals]
    assert rank(10.9806, 106.6520, full)[0].code != "BVDK_TINH"
    closed = [replace(h, active=False) if h.code == "BVDK_TINH" else h for h in hospitals]
    assert "BVDK_TINH" not in [c.code for c in rank(10.9806, 106.6520, closed)]


def test_obstetric_emergency_near_thuan_an_goes_to_a_hospital_with_obstetrics(hospitals, directory):
    ranked = rank(10.8790, 106.7050, hospitals, specialty="obstetric")  # Vĩnh Phú, Thuận An
    assert ranked[0].code == "BV_HANHPHUC"
    assert all("obstetrics" in directory.hospitals[c.code].specialties for c in ranked)
    # For trauma Hạnh Phúc (women's and children's only) is not offered at all.
    assert "BV_HANHPHUC" not in [c.code for c in rank(10.8790, 106.7050, hospitals, specialty="trauma")]


def test_pediatric_and_trauma_specialties(hospitals, directory):
    for specialty in ("pediatrics", "trauma"):
        for candidate in rank(11.0, 106.7, hospitals, specialty=specialty):
            assert specialty in directory.hospitals[candidate.code].specialties


@pytest.mark.parametrize(("point", "pair"), [
    ((11.148853, 106.611447), ("BV_MYPHUOC", "TTYT_BENCAT")),
    ((11.267209, 106.367542), ("BV_CAOSU_DT", "TTYT_DAUTIENG")),
])
def test_hospitals_at_the_same_point_are_ordered_by_code(hospitals, point, pair):
    for order in (hospitals, list(reversed(hospitals)), sorted(hospitals, key=lambda h: h.name)):
        assert tuple(c.code for c in rank(*point, order)[:2]) == pair
        assert tuple(c.code for c in rank(*point, HospitalIndex(order))[:2]) == pair


def test_exclude_gives_the_next_one(hospitals):
    point = (11.148853, 106.611447)
    assert rank(*point, hospitals, exclude=["BV_MYPHUOC"])[0].code == "TTYT_BENCAT"
    assert next_hospital(point, hospitals, tried=["BV_MYPHUOC"]).code == "TTYT_BENCAT"
    assert next_hospital({"lat": point[0], "lon": point[1]}, hospitals, tried=["BV_MYPHUOC", "TTYT_BENCAT"]
                         ).code not in {"BV_MYPHUOC", "TTYT_BENCAT"}


def test_when_no_hospital_with_the_specialty_is_left_the_nearest_emergency_one_is_offered(hospitals):
    point = (10.8790, 106.7050)
    with_obstetrics = [c.code for c in rank(*point, hospitals, specialty="obstetrics")]
    choice = next_hospital(point, hospitals, tried=with_obstetrics, specialty="obstetrics")
    assert choice is not None and choice.code not in with_obstetrics
    assert choice.reasons[-1].code == "specialty"
    assert next_hospital(point, hospitals, tried=[h.code for h in hospitals]) is None


def test_should_escalate_after_n_failures():
    assert not should_escalate(0) and not should_escalate(2)
    assert should_escalate(3) and should_escalate(["A", "B", "C"])
    assert should_escalate(1, max_failures=1)


def test_a_point_outside_vietnam_is_an_input_error(hospitals):
    with pytest.raises(RoutingInputError):
        rank(0.0, 0.0, hospitals)


def test_the_estimator_is_pluggable(hospitals):
    class Straight:
        def estimate(self, lat1, lon1, lat2, lon2):
            d = haversine_m(lat1, lon1, lat2, lon2)
            return d, d  # one metre a second

    ranked = rank(10.93, 106.71, hospitals, estimator=Straight())
    assert ranked[0].eta_s == pytest.approx(ranked[0].distance_m)
    default = RoadFactorEstimator()
    road, seconds = default.estimate(10.9, 106.7, 10.9, 106.8)
    assert road == pytest.approx(haversine_m(10.9, 106.7, 10.9, 106.8) * 1.4)
    assert seconds == pytest.approx(5000 / (30 / 3.6) + (road - 5000) / (45 / 3.6))


def test_the_index_finds_what_a_scan_finds():
    rng = random.Random(7)

    class H:
        def __init__(self, i):
            self.code, self.name = f"H{i:05d}", f"H{i}"
            self.lat, self.lon = rng.uniform(8.5, 23), rng.uniform(102.5, 109.5)
            self.emergency, self.available, self.active = rng.random() < 0.7, rng.random() < 0.9, True
            self.specialties = ("obstetrics",) if rng.random() < 0.1 else ("general",)

    facilities = [H(i) for i in range(3000)]
    index = HospitalIndex(facilities)
    for _ in range(50):
        lat, lon = rng.uniform(8.5, 23), rng.uniform(102.5, 109.5)

        def suitable(h):
            return h.emergency and h.available and "obstetrics" in h.specialties

        expected = sorted((haversine_m(lat, lon, h.lat, h.lon), h.code) for h in facilities if suitable(h))[:3]
        found = index.nearest(lat, lon, 3, suitable)
        assert [h.code for h, _ in found] == [c for _, c in expected]
        for (_, d), (d_expected, _) in zip(found, expected, strict=True):
            assert d == pytest.approx(d_expected, rel=1e-6)
    assert index.nearest(10, 106, 2, lambda h: False) == []
