import json
from dataclasses import replace

import pytest

from routing.engine import route_1022
from routing.errors import RoutingInputError


def route(directory, model, description, **kwargs):
    return route_1022(description, directory=directory, classifier=model, **kwargs)


def test_a_clear_request_is_routed_without_confirmation(directory, model):
    decision = route(directory, model, "Nhà tôi cúp điện từ sáng tới giờ, gọi điện lực không ai nghe")
    assert decision.contact_point == "DIENLUC_BD" and decision.category == "dien"
    assert decision.category_source == "classifier"
    assert decision.confidence >= 0.6 and not decision.needs_confirmation
    assert {r.code for r in decision.reasons} >= {"classifier", "keyword", "rule"}


def test_a_district_level_request_goes_to_the_district_of_the_address(directory, model):
    decision = route(directory, model, "Hàng xóm tranh chấp đất, dời cột mốc ranh đất qua đất nhà tôi",
                     address="khu phố 2, p. Phú Hòa, TP Thủ Dầu Một")
    assert decision.category == "dat_dai" and decision.contact_point == "UBND_TDM"
    assert decision.location.ward_code == "25750"
    assert "SO_TNMT" in [a.contact_point for a in decision.alternatives]


def test_a_given_category_is_not_second_guessed(directory, model):
    decision = route(directory, model, "đường hư", category="xay_dung", ward_code="25942")
    assert (decision.contact_point, decision.category, decision.category_source) == ("UBND_DIAN", "xay_dung",
                                                                                   "given")
    assert decision.confidence == 1.0


def test_a_district_level_category_without_a_place_goes_to_the_province_with_less_confidence(directory, model):
    decision = route(directory, model, "xây dựng trái phép", category="xay_dung")
    assert decision.contact_point == "SO_XAYDUNG" and decision.confidence < 1.0


def test_category_and_district_rule(directory, model):
    decision = route(directory, model, "Xe rác cả tuần không tới lấy rác", ward_code="25777")
    assert decision.contact_point == "UBND_DAUTIENG"
    assert decision.alternatives[0].contact_point == "BIWASE"


def test_near_a_boundary_both_districts_are_offered(directory, model):
    decision = route(directory, model, "xin cấp sổ đỏ", category="dat_dai", lat=11.0677, lon=106.6940)
    assert decision.contact_point == "UBND_TDM" and decision.needs_confirmation
    assert "UBND_TANUYEN" in [a.contact_point for a in decision.alternatives]


def test_other_languages_and_empty_descriptions_go_to_the_fallback(directory, model):
    for text in ("Please help, my street light is broken", "路灯坏了", "", "   ", None):
        decision = route(directory, model, text)
        assert decision.contact_point == "VP_UBND" and decision.category is None
        assert decision.needs_confirmation and decision.confidence < 0.3


def test_a_ten_thousand_character_description_is_classified_from_its_start(directory, model):
    text = ("Đèn đường trước nhà tôi tắt cả tuần nay rồi, tối đi về rất sợ. " * 200)[:10_000]
    decision = route(directory, model, text)
    assert decision.category == "do_thi"
    assert any(r.code == "input" for r in decision.reasons)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"category": "no_such_category"}, "category"),
    ({"category": 12}, "category"),
    ({"ward_code": "00000"}, "ward_code"),
    ({"lat": 48.8, "lon": 2.3}, "lat"),
    ({"lat": 10.9}, "lon"),
    ({"address": ["p. Phú Hòa"]}, "address"),
])
def test_invalid_fields_raise_a_routing_input_error(directory, model, kwargs, field):
    with pytest.raises(RoutingInputError) as error:
        route(directory, model, "mất điện", **kwargs)
    assert error.value.field == field


def test_a_description_that_is_not_text_is_an_input_error(directory, model):
    with pytest.raises(RoutingInputError) as error:
        route(directory, model, {"text": "mất điện"})
    assert error.value.field == "description"


def test_the_decision_is_json_serialisable(directory, model):
    decision = route(directory, model, "ổ gà giữa đường nguy hiểm quá", address="p. Dĩ An", lat=None)
    data = json.loads(json.dumps(decision.to_dict(), ensure_ascii=False))
    assert data["contact_point"] == decision.contact_point
    assert {"reasons", "alternatives", "location", "confidence", "needs_confirmation",
            "proposed_categories"} <= set(data)


def test_a_directory_without_the_proposed_categorys_contact_point_falls_back(directory, model):
    inactive = replace(directory.contact_points["DIENLUC_BD"], active=False)
    changed = replace(directory, contact_points={**directory.contact_points, "DIENLUC_BD": inactive})
    decision = route(changed, model, "cúp điện cả ngày rồi")
    assert decision.contact_point == "VP_UBND"
