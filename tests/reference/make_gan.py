"""Reference for tests/gan/gan_step_test.cpp: two iterations of the standard GAN loop (PyTorch's
DCGAN tutorial) on tiny MLPs. Per iteration: the discriminator step on real data (target 0.9,
one-sided label smoothing) and on detached fakes (target 0) with BCE-with-logits, then the
generator step through the discriminator with requires_grad_(False) (target 1); both
Adam(lr=2e-4, betas=(0.5, 0.999)). The generator's first Linear has no bias, as in DCGAN: a
bias before batch norm gets a zero gradient up to rounding, which Adam would turn into +-lr
steps of random sign (not comparable). Writes fixtures/gan_step.json. Run with /usr/bin/python3."""
import torch
from torch import nn
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(11)
G = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.Tanh())
D = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
out = {}
for name, p in G.named_parameters():
    out["g_init." + name] = p.detach().clone()
for name, p in D.named_parameters():
    out["d_init." + name] = p.detach().clone()

opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
n = 6
for it in range(2):
    real = torch.randn(n, 3) * 0.5 + 0.2
    z = torch.randn(n, 4)
    out[f"real{it}"] = real
    out[f"z{it}"] = z
    fake = G(z)
    opt_d.zero_grad()
    loss_d = F.binary_cross_entropy_with_logits(D(real), torch.full((n, 1), 0.9)) + \
        F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(n, 1))
    loss_d.backward()
    opt_d.step()
    D.requires_grad_(False)
    opt_g.zero_grad()
    loss_g = F.binary_cross_entropy_with_logits(D(fake), torch.ones(n, 1))
    loss_g.backward()
    opt_g.step()
    D.requires_grad_(True)
    out[f"loss_d{it}"] = loss_d.item()
    out[f"loss_g{it}"] = loss_g.item()

for name, p in G.named_parameters():
    out["g_final." + name] = p.detach().clone()
for name, b in G.named_buffers():
    if b.dtype == torch.float32:
        out["g_final." + name] = b.clone()
for name, p in D.named_parameters():
    out["d_final." + name] = p.detach().clone()
write("gan_step", out)
