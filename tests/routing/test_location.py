import pytest

from routing.errors import RoutingInputError
from routing.location import from_text, locate


@pytest.mark.parametrize(("address", "ward", "district"), [
    ("phường Dĩ An", "25942", "724"),
    ("phuong Di An", "25942", "724"),
    ("p. Phu Hoa", "25750", "718"),
    ("P.Phú Hoà, TP Thủ Dầu Một", "25750", "718"),
    ("12 đường số 3, khu phố 3, P.Chánh Phú Hòa, TX Bến Cát", "25837", "721"),
    ("ấp 2, xã Minh Hoà, h. Dầu Tiếng", "25780", "720"),
    ("ap 2, x. Minh Hòa, huyen Dau Tieng", "25780", "720"),
    ("p. Định Hoà TDM", "25759", "718"),
    ("p dinh hoa", "25759", "718"),
    ("tt Tân Bình", "25900", "726"),
    ("phường Tân Bình, Dĩ An", "25945", "724"),
])
def test_wards_from_addresses(directory, address, ward, district):
    location = locate(directory, address=address)
    assert (location.ward_code, location.district_code, location.how) == (ward, district, "address")
    assert location.confidence >= 0.9


@pytest.mark.parametrize(("address", "district"), [
    ("TDM", "718"), ("Thủ Dầu Một", "718"), ("thu dau mot", "718"), ("tx Ben Cat", "721"),
    ("TP. Thuận An", "725"), ("Bắc Tân Uyên", "726"), ("tân uyên", "723"), ("h. Phú Giáo", "722"),
    ("BTU", "726"), ("DA", "724"), ("tp da", "724"), ("Dĩ An", "724"),
])
def test_districts_from_names_aliases_and_initials(directory, address, district):
    location = locate(directory, address=address)
    assert location.district_code == district and location.ward_code is None


@pytest.mark.parametrize("address", ["Q.4", "123 Nguyễn Trãi, Q. Tân Bình, TP.HCM", "da", "ta", "bc",
                                     "số 5 đường ĐT743", "Hà Nội", ""])
def test_what_is_not_a_place_here_matches_nothing(directory, address):
    location = locate(directory, address=address)
    assert location.district_code is None and location.ward_code is None and location.confidence == 0


def test_an_ambiguous_ward_name_offers_every_ward(directory):
    location = locate(directory, address="An Bình")
    assert location.district_code is None
    assert {(c.district_code, c.ward_code) for c in location.candidates} == {("722", "25870"), ("724", "25960")}


def test_the_kind_before_a_name_picks_between_namesakes(directory):
    assert locate(directory, address="xã Tân Hiệp").ward_code == "25873"
    assert locate(directory, address="phường Tân Hiệp").ward_code == "25920"


def test_places_in_a_description_need_their_kind_or_a_district_name(directory):
    assert from_text(directory, "tân bình an bình vui vẻ", how="description", strict=True).how is None
    found = locate(directory, description="nhà em ở phường An Bình, Dĩ An, đường bị ngập")
    assert (found.ward_code, found.district_code, found.how) == ("25960", "724", "description")


def test_ward_code(directory):
    location = locate(directory, ward_code="25966")
    assert (location.ward_code, location.district_code, location.how, location.confidence) == (
        "25966", "725", "ward_code", 1.0)


def test_unknown_ward_code_is_an_input_error(directory):
    with pytest.raises(RoutingInputError) as error:
        locate(directory, ward_code="99999")
    assert error.value.field == "ward_code"


def test_point_inside_a_district(directory):
    location = locate(directory, lat=10.9806, lon=106.6520)  # Phú Cường, Thủ Dầu Một
    assert (location.district_code, location.ward_code, location.how) == ("718", "25747", "point")
    assert not location.near_boundary and location.confidence > 0.9


def test_point_near_a_boundary_offers_both_districts(directory):
    location = locate(directory, lat=11.0677, lon=106.6940)  # Phú Chánh, on the Thủ Dầu Một / Tân Uyên line
    assert location.near_boundary
    assert {c.district_code for c in location.candidates} == {"718", "723"}
    assert location.confidence <= 0.6
    assert "723" in location.reason.en and "723" in location.reason.vi


def test_point_in_vietnam_outside_the_province(directory):
    location = locate(directory, lat=21.0285, lon=105.8542)  # Hà Nội
    assert location.district_code is None and location.how == "point" and location.confidence == 0


@pytest.mark.parametrize(("lat", "lon", "field"), [
    (48.85, 2.35, "lat"), (10.9, 120.0, "lon"), (0.0, 0.0, "lat"), (106.7, 10.9, "lat"),
    ("abc", 106.7, "lat"), (float("nan"), 106.7, "lat"), (True, 106.7, "lat"), (10.9, None, "lon"),
])
def test_points_outside_vietnam_or_malformed_are_input_errors(directory, lat, lon, field):
    with pytest.raises(RoutingInputError) as error:
        locate(directory, lat=lat, lon=lon)
    assert error.value.field == field


def test_without_polygons_the_nearest_ward_point_decides(directory):
    from dataclasses import replace

    bare = replace(directory, boundaries={})
    location = locate(bare, lat=10.9806, lon=106.6520)
    assert (location.district_code, location.ward_code) == ("718", "25747")


def test_a_bad_point_is_an_error_even_beside_a_ward_code(directory):
    with pytest.raises(RoutingInputError) as error:
        locate(directory, ward_code="25966", lat=91, lon=106.7)
    assert error.value.field == "lat"
