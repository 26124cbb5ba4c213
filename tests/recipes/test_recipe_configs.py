"""Every paper-recipe experiment composes, with the reference optimizer, schedule and model."""
import pytest

RECIPES = {
    # experiment: (model, quant, w_bits, act_bits, optimizer, lr, weight decay, scheduler,
    #              epochs, batch size)
    "table2_reactnet_a_origin_step1": ("reactnet_a", "origin", 32, 1, "Adam", 1.25e-3, 1e-5,
                                       "linear", 128, 256),
    "table2_reactnet_a_origin_step2": ("reactnet_a", "origin", 1, 1, "Adam", 1.25e-3, 0.0,
                                       "linear", 128, 256),
    "table2_reactnet_a_bwma_step1": ("reactnet_a", "bwma", 32, 1, "Adam", 1.25e-3, 1e-5,
                                     "linear", 128, 256),
    "table2_reactnet_a_bwma_step2": ("reactnet_a", "bwma", 1, 1, "Adam", 1.25e-3, 0.0,
                                     "linear", 128, 256),
    **{f"table2_{m}_{q}": (m, q, 1, 1, "RAdam", 2e-3, 0.0, "cosine", 120, 64)
       for m in ("bdensenet28", "meliusnet22", "meliusnet29") for q in ("origin", "bwma")},
    "table1_resnet18_imagenet": ("resnet18", "bwma", 1, 4, "SGD", 0.1, 1e-4, "cosine", 120, 256),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_experiment_composes_with_its_recipe(compose_cfg, name):
    cfg = compose_cfg("train", [f"experiment={name}"])
    model, quant, w_bits, act_bits, opt, lr, wd, sched, epochs, batch = RECIPES[name]
    assert cfg.model.name == model and cfg.quant.method == quant
    assert (cfg.w_bits, cfg.act_bits) == (w_bits, act_bits)
    assert cfg.optimizer._target_ == f"torch.optim.{opt}"
    assert cfg.optimizer.lr == pytest.approx(lr)
    assert cfg.optimizer.weight_decay == pytest.approx(wd)
    assert (cfg.scheduler.name, cfg.scheduler.min_lr, cfg.scheduler.warmup_epochs) == (sched, 0, 0)
    assert cfg.trainer.max_epochs == epochs and cfg.dataset.batch_size == batch
    assert cfg.dataset._target_ == "bwma_exp.data.ImageNetDataModule"
    assert cfg.dataset.image_size == 224


def test_reactnet_recipes_distil_from_resnet34_and_step2_needs_step1(compose_cfg):
    for quant in ("origin", "bwma"):
        step1 = compose_cfg("train", [f"experiment=table2_reactnet_a_{quant}_step1"])
        step2 = compose_cfg("train", [f"experiment=table2_reactnet_a_{quant}_step2"])
        for cfg in (step1, step2):
            assert cfg.distill.teacher_model == "resnet34" and cfg.distill.alpha == 1.0
            assert cfg.weight_decay_scope == "conv"   # ReActNet decays conv weights only
        assert list(step1.required_keys) == ["distill.teacher_ckpt"]
        assert list(step2.required_keys) == ["distill.teacher_ckpt", "init_from"]


def test_bmxnet_recipes_and_defaults_do_not_distil(compose_cfg):
    for name in ("table2_meliusnet22_origin", "table1_resnet18_imagenet"):
        cfg = compose_cfg("train", [f"experiment={name}"])
        assert cfg.distill.teacher_ckpt is None and list(cfg.required_keys) == []
        assert cfg.init_from is None and cfg.weight_decay_scope == "all"
