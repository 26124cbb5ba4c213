"""The datamodule inside a real Trainer: augmentation in training only, RNG state checkpointed."""

import pytorch_lightning as pl
import torch

from bwma_exp.data.synthetic import SyntheticDataModule


class Recorder(pl.LightningModule):
    """A linear classifier that remembers the batches it was given."""

    def __init__(self, dm):
        super().__init__()
        self.layer = torch.nn.Linear(dm.in_channels * dm.image_size**2, dm.num_classes)
        self.seen = {"train": [], "val": []}

    def _step(self, batch, split):
        x, y = batch
        self.seen[split].append(x.clone())
        return torch.nn.functional.cross_entropy(self.layer(x.flatten(1)), y)

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_fit_augments_train_batches_only_and_checkpoints_the_generators(tmp_path):
    dm = SyntheticDataModule(batch_size=16, image_size=8, train_size=32, val_size=16,
                             test_size=16, flip=True, padding=2, noise_std=0.0)
    model = Recorder(dm)
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0,
                         default_root_dir=tmp_path)
    trainer.fit(model, datamodule=dm)

    val_expected = (dm.val_set.x - 0.5) / 0.5
    assert torch.equal(torch.cat(model.seen["val"]), val_expected)
    train_seen = torch.cat(model.seen["train"])
    assert train_seen.shape == (32, 3, 8, 8)
    # Zero padding shows up as -1 after normalisation; noise-free data has no exact zeros.
    assert (train_seen == -1.0).any() and not (dm.train_set.x == 0.0).any()

    trainer.save_checkpoint(tmp_path / "last.ckpt")
    saved = torch.load(tmp_path / "last.ckpt", weights_only=False)["SyntheticDataModule"]
    assert torch.equal(saved["augment_generator"], dm.augment_generator.get_state())
    assert not torch.equal(saved["augment_generator"], torch.Generator().manual_seed(0).get_state())
