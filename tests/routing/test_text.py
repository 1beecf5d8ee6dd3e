from routing.text import acronym, fold, has_diacritics, normalise, vietnamese_share, words


def test_both_tone_placements_normalise_to_one():
    pairs = [("hoà", "hòa"), ("hoá", "hóa"), ("hoả", "hỏa"), ("hoã", "hõa"), ("hoạ", "họa"),
             ("thuỳ", "thùy"), ("thuý", "thúy"), ("thuỷ", "thủy"), ("thuỹ", "thũy"), ("thuỵ", "thụy"),
             ("khoẻ", "khỏe")]
    for new_style, old_style in pairs:
        assert normalise(new_style) == normalise(old_style) == old_style


def test_tone_placement_leaves_closed_syllables_and_qu_alone():
    assert normalise("hoàn toàn") == "hoàn toàn"
    assert normalise("quý") == "quý"


def test_normalise_composes_lowers_and_squeezes_spaces():
    decomposed = "Phu\u031bo\u031b\u0300ng  Đi\u0323nh   HOA\u0300"
    assert normalise(decomposed) == "phường định hòa"


def test_fold_strips_every_mark_including_d_bar():
    assert fold("Thủ Dầu Một, Đồng Nai") == "thu dau mot, dong nai"
    assert len(fold("Phường Định Hoà")) == len(normalise("Phường Định Hoà"))


def test_words_acronym_and_diacritics():
    assert words("P.Phú Hòa, TX. Bến Cát") == ["p", "phu", "hoa", "tx", "ben", "cat"]
    assert acronym("Thủ Dầu Một") == "tdm"
    assert has_diacritics("mất điện") and not has_diacritics("mat dien")


def test_vietnamese_share_tells_vietnamese_from_other_languages():
    assert vietnamese_share("nha toi bi mat nuoc ba ngay roi") == 1.0
    assert vietnamese_share("Nhà tôi bị mất nước ba ngày rồi") == 1.0
    assert vietnamese_share("My street has had no water since Monday") < 0.5
    assert vietnamese_share("我家停水三天了") == 0.0
    assert vietnamese_share("") == 0.0
