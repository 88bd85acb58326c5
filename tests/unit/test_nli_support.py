"""The NLI backend with a tiny model this test builds (no NLI weights ship on PyPI):
real loading from a local path, label mapping by name, batching and premise windowing."""
from __future__ import annotations

import pytest

from serve_app.engines.guardrails.nli import NliSupport, label_indices
from serve_app.engines.guardrails.support import evidence_units

SENTENCES = ["the patient denies chest pain", "she has had a cough for two weeks", "start ibuprofen 400 mg",
             "no fever or chills", "left knee pain after a fall", "blood pressure is normal today"]


def _tiny_model(path, id2label, favour: str):
    """A 2-layer BERT with a WordPiece vocabulary trained on a few sentences; the classifier bias
    makes label ``favour`` win whatever the input, so the outcome shows the label mapping."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(SENTENCES * 5, trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    from tokenizers.processors import TemplateProcessing

    fast._tokenizer.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", fast.cls_token_id), ("[SEP]", fast.sep_token_id)])
    config = BertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=3,
                        id2label=id2label, label2id={v: k for k, v in id2label.items()})
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[[k for k, v in id2label.items() if v == favour][0]] = 5.0
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)


def test_labels_are_found_by_name_not_position():
    assert label_indices({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}) == {
        "contradiction": 0, "neutral": 1, "entailment": 2}
    assert label_indices({"0": "entailment", "1": "neutral", "2": "contradiction"})["contradiction"] == 2
    with pytest.raises(ValueError):
        label_indices({0: "LABEL_0", 1: "LABEL_1"})


@pytest.mark.parametrize("favour,outcome", [("ENTAILMENT", "supported"), ("CONTRADICTION", "contradicted"),
                                            ("NEUTRAL", "unsupported")])
def test_tiny_model_loads_offline_and_its_labels_map_to_outcomes(tmp_path, favour, outcome):
    id2label = {0: "NEUTRAL", 1: "CONTRADICTION", 2: "ENTAILMENT"}  # not the usual order
    nli = NliSupport(_tiny_model(tmp_path / favour, id2label, favour), batch_size=2)
    units = evidence_units([{"id": "s0", "text": SENTENCES[0]}, {"id": "s1", "text": SENTENCES[1]}])
    results = nli.check(["chest pain", "cough", "fever"], units)
    assert [r.outcome for r in results] == [outcome] * 3
    assert results[0].evidence == ("s0", "s1")


def test_long_premises_are_windowed_and_every_window_is_scored(tmp_path):
    nli = NliSupport(_tiny_model(tmp_path / "m", {0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"},
                                 "ENTAILMENT"), batch_size=4, window_tokens=20, stride_tokens=10)
    long = ". ".join(SENTENCES * 4)
    windows = nli.windows(long)
    assert len(windows) > 3 and all(len(nli._tok(w, add_special_tokens=False)["input_ids"]) <= 20 for w in windows)
    units = evidence_units([{"id": f"s{i}", "text": s} for i, s in enumerate(SENTENCES * 4)])
    nli.check(["cough", "fever"], units)
    assert nli.pairs_scored == 2 * len(nli.windows(" ".join(dict.fromkeys(u.text for u in units))))


def test_the_guardrail_engine_runs_on_the_nli_backend(tmp_path):
    from serve_app.engines.guardrails.engine import GuardrailEngine

    engine = GuardrailEngine(NliSupport(_tiny_model(tmp_path / "c", {0: "ENTAILMENT", 1: "NEUTRAL",
                                                                     2: "CONTRADICTION"}, "CONTRADICTION")))
    segments = [{"id": "s0", "text": SENTENCES[0]}, {"id": "s1", "text": SENTENCES[1]}]
    note = {"subjective": [{"id": "n1", "text": "chest pain", "citations": ["s0"]}]}
    warnings = engine.check(note, segments)
    assert [(w["note_item"], w["kind"], w["evidence"]) for w in warnings] == [("n1", "contradicted", ["s0"])]
