from collections import Counter

import numpy as np
import pytest

from routing import classifier as classifiers
from routing.corpus import read_corpus, read_keywords, split
from routing.train import build_pipeline, evaluate, export, keyword_lists, train


def test_the_corpus_covers_every_category_with_varied_descriptions(directory):
    rows = read_corpus()
    counts = Counter(c for _, c in rows)
    assert set(counts) == set(directory.categories)
    assert min(counts.values()) >= 15 and len(rows) >= 600
    assert len({t for t, _ in rows}) == len(rows)
    assert set(read_keywords()) <= set(directory.categories)


def test_the_held_out_split_is_fixed_and_stratified(corpus_split):
    train_rows, heldout = corpus_split
    assert split(read_corpus()) == corpus_split
    assert not {t for t, _ in train_rows} & {t for t, _ in heldout}
    share = len(heldout) / (len(heldout) + len(train_rows))
    assert 0.18 < share < 0.22
    assert len({c for _, c in heldout}) == 36


def test_held_out_accuracy_is_at_least_90_percent(model, corpus_split):
    result = evaluate(model, corpus_split[1])
    assert result.accuracy >= 0.90, result.confusions[:10]


@pytest.mark.parametrize(("text", "category"), [
    ("alo tổng đài ơi, nhà em cúp điện từ sáng tới giờ luôn á, tủ lạnh hư hết đồ ăn rồi", "dien"),
    ("nha toi mat nuoc 3 ngay roi, goi cong ty nuoc hoai khong ai nghe", "nuoc"),
    ("cty no luong cong nhan 2 thang nay roi, anh em dinh cong het", "lao_dong_viec_lam"),
    ("Hàng xóm xây nhà lấn qua đất nhà tui gần nửa thước, xin xuống đo lại ranh đất dùm", "dat_dai"),
    ("o ga to dung giua duong, toi qua xe may te lien tuc", "giao_thong"),
    ("Tối nào tụi nhỏ cũng đua xe bốc đầu ngoài đại lộ, nẹt pô điếc tai", "trat_tu_an_toan_giao_thong"),
    ("ăn cơm căn tin công ty xong cả chục người bị đau bụng ói mửa", "an_toan_thuc_pham"),
    ("xóm em muỗi quá trời, có 2 đứa nhỏ bị sốt suất huyết rồi", "dich_benh"),
    ("Dạ cho em hỏi làm giấy khai sinh cho con thì lên phường hay lên huyện ạ", "tu_phap_ho_tich"),
    ("chay nha o hem 5, lua lon lam, goi cuu hoa gap", "pccc"),
])
def test_colloquial_unaccented_and_misspelt_descriptions(model, text, category):
    proposal = model.classify(text)
    assert proposal.category == category, proposal.ranked[:3]


def test_the_same_text_with_and_without_accents_gets_the_same_category(model):
    with_accents = model.classify("Xe rác không tới lấy rác cả tuần nay, rác bốc mùi hôi thối")
    without = model.classify("Xe rac khong toi lay rac ca tuan nay, rac boc mui hoi thoi")
    assert with_accents.category == without.category == "rac_thai"


def test_keywords_are_reasons_and_the_longest_match_wins(model):
    proposal = model.classify("Chồng tôi bị tai nạn lao động ở xưởng gỗ, chủ không bồi thường")
    assert proposal.category == "lao_dong_viec_lam"
    assert [h.keyword for h in proposal.keywords if h.category == "lao_dong_viec_lam"] == ["tai nạn lao động"]
    assert not [h for h in proposal.keywords if h.keyword == "tai nạn"]
    assert any(r.code == "keyword" and "tai nạn lao động" in r.vi for r in proposal.reasons())


def test_other_languages_get_a_low_confidence(model):
    for text in ("There is no water in my street since Monday, please help",
                 "我家停水三天了，请帮忙", "Прошу помочь, нет воды три дня"):
        proposal = model.classify(text)
        assert proposal.confidence < 0.3
        assert any(r.code == "language" for r in proposal.reasons())


def test_empty_and_punctuation_only_texts(model):
    for text in ("", "   ", None, "...?!"):
        proposal = model.classify(text)
        assert proposal.category is None and proposal.confidence == 0


def test_long_texts_are_truncated(model):
    text = "Nhà tôi bị cúp điện cả ngày. " * 400
    proposal = model.classify(text)
    assert len(text) == 11_600
    assert proposal.truncated and proposal.category == "dien"


def test_the_exported_arrays_reproduce_the_scikit_learn_pipeline(corpus_split):
    train_rows, heldout = corpus_split
    lists = keyword_lists()
    pipeline = build_pipeline(lists).fit([t for t, _ in train_rows], [c for _, c in train_rows])
    exported = export(pipeline, {})
    texts = [t for t, _ in heldout[:60]]
    expected = pipeline.predict_proba(texts)
    columns = [list(pipeline.classes_).index(c) for c in exported.classes]
    ours = np.vstack([exported.probabilities(t) for t in texts])
    np.testing.assert_allclose(ours, expected[:, columns], atol=1e-5)


def test_save_and_load_round_trip(model, tmp_path):
    path = classifiers.save(model, tmp_path / "model.npz")
    loaded = classifiers.load(path)
    text = "nước máy đục ngầu có mùi clo"
    np.testing.assert_allclose(loaded.probabilities(text), model.probabilities(text))
    assert loaded.classes == model.classes and loaded.meta == model.meta


def test_a_missing_damaged_or_stale_model_file_loads_as_none(model, tmp_path):
    assert classifiers.load(tmp_path / "missing.npz") is None
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    assert classifiers.load(tmp_path / "bad.npz") is None
    path = classifiers.save(model, tmp_path / "model.npz")
    assert classifiers.load(path, corpus_sha256="another corpus") is None


def test_retraining_takes_extra_rows_from_confirmed_tickets():
    rows = [("mất điện cả ngày", "dien"), ("cúp điện liên tục", "dien"), ("điện chập chờn", "dien"),
            ("mất nước mấy ngày", "nuoc"), ("cúp nước từ sáng", "nuoc"), ("nước yếu không lên", "nuoc")]
    extra = [("trạm biến áp kêu ù ù cả đêm", "dien"), ("", "dien"), ("text", ""),
             ("ống nước bể ngoài đường", "nuoc"), ("một dòng duy nhất", "khac")]
    model = train(rows, extra_rows=extra)
    assert model.meta["extra_rows"] == 3 and model.meta["left_out"] == ["khac"]
    assert set(model.classes) == {"dien", "nuoc"}
    with pytest.raises(ValueError):
        train([("một", "dien"), ("hai", "dien")])
