from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from routing.duplicates import find_candidates

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def ticket(id, **fields):
    base = {"category": "do_thi", "lat": 10.9800, "lon": 106.6500, "ward_code": "25747",
            "caller_phone": "+84900000001", "created_at": NOW - timedelta(hours=2), "status": "assigned"}
    return SimpleNamespace(id=id, **{**base, **fields})


NEW = ticket(None, caller_phone="+84911111111", status="new", created_at=NOW)


def ids(found):
    return [c.ticket_id for c in found]


def test_same_category_nearby_is_a_candidate():
    found = find_candidates(NEW, [ticket(1, lat=10.9810, lon=106.6510, ward_code="25741")], NOW)
    assert ids(found) == [1] and found[0].reasons[0].code == "nearby" and found[0].distance_m < 300


def test_same_category_same_ward_without_coordinates_is_a_candidate():
    found = find_candidates(NEW, [ticket(2, lat=None, lon=None)], NOW)
    assert ids(found) == [2] and found[0].reasons[0].code == "same_ward"


def test_far_away_other_category_old_or_closed_tickets_are_not():
    others = [ticket(3, lat=11.2, lon=106.9, ward_code="25909"), ticket(4, category="dien"),
              ticket(5, created_at=NOW - timedelta(days=4)), ticket(6, status="resolved"),
              ticket(7, status="closed"), ticket(8, status="cancelled")]
    assert find_candidates(NEW, others, NOW) == []


def test_radius_and_days_are_parameters():
    near = ticket(9, lat=10.9840, lon=106.6500, ward_code="25741")  # ~445 m
    assert find_candidates(NEW, [near], NOW) == []
    assert ids(find_candidates(NEW, [near], NOW, radius_m=500)) == [9]
    old = ticket(10, created_at=NOW - timedelta(days=5))
    assert ids(find_candidates(NEW, [old], NOW, days=7)) == [10]


def test_the_same_callers_open_tickets_are_candidates_whatever_they_are_about():
    mine = ticket(11, caller_phone=NEW.caller_phone, category="dien", lat=11.3, lon=106.4, ward_code="25777",
                  created_at=NOW - timedelta(days=30))
    nearby = ticket(12, lat=10.9801, lon=106.6501)
    found = find_candidates(NEW, [nearby, mine], NOW)
    assert ids(found) == [11, 12]
    assert found[0].same_caller and found[0].reasons[0].code == "same_caller"


def test_naive_times_are_taken_as_utc_and_the_ticket_itself_is_skipped():
    naive = ticket(13, created_at=datetime(2026, 3, 10, 8, 0))
    myself = ticket(14)
    new = SimpleNamespace(**{**vars(NEW), "id": 14})
    assert ids(find_candidates(new, [naive, myself], NOW)) == [13]
    assert find_candidates(NEW, [], NOW) == []
