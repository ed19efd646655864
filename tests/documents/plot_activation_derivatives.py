"""
Derivatives of activation functions
===================================

This example differentiates three common activations with autograd and
compares the result with the textbook formulas.  The derivative of
:math:`\\tanh` is :math:`1 - \\tanh^2(x)`, the derivative of the softplus
:math:`\\log(1 + e^x)` is the logistic sigmoid, and ReLU has derivative 0 for
negative inputs and 1 for positive ones.
"""

# Author: A. Teacher
# License: BSD 3 clause

import torch

###############################################################################
# Hyperbolic tangent
# ------------------
#
# At :math:`x = 0.5`, :math:`\tanh(0.5) = 0.4621`, so the slope is
# :math:`1 - 0.4621^2 = 0.7864`.

x = torch.tensor(0.5, requires_grad=True)
torch.tanh(x).backward()
print(x.grad)  # tensor(0.7864)

###############################################################################
# Softplus
# --------
#
# Differentiating :math:`\log(1 + e^x)` with the chain rule gives
# :math:`\frac{e^x}{1 + e^x}`, the sigmoid.  Dividing through by :math:`e^x`,
# :math:`\frac{d}{dx}\log(1 + e^x) = \frac{e^{-x}}{1 + e^{-x}}`.  At :math:`x = 1`
# the slope is :math:`\sigma(1) \approx 0.7311`.

x = torch.tensor(1.0, requires_grad=True)
torch.nn.functional.softplus(x).backward()
print(x.grad)  # tensor(0.7311)

# %%
# ReLU
# ----
#
# For a vector input the gradient of :math:`\sum_i \mathrm{relu}(x_i)` is 1 where
# the entry is positive and 0 where it is negative.

x = torch.tensor([-1.0, 2.0, 3.0], requires_grad=True)
torch.relu(x).sum().backward()
print(x.grad)  # tensor([0., 1., 1.])

# %%
# Sigmoid at a negative input
# ---------------------------
#
# Since :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))` and
# :math:`\sigma(-2) \approx 0.1192`, the slope at :math:`x = -2` is about 0.1050.

x = torch.tensor(-2.0, requires_grad=True)
torch.sigmoid(x).backward()
print(x.grad)  # tensor(0.1192)

# %%
# Leaky ReLU
# ----------
#
# With slope 0.01 on the negative side the gradient at -3 is 0.01.

x = torch.tensor(-3.0, requires_grad=True)
torch.nn.functional.leaky_relu(x, negative_slope=0.01).backward()
print(x.grad)  # tensor(0.0100)

# %%
# The error function
# ------------------
#
# GELU-style activations use :math:`\mathrm{erf}`, whose derivative is
# :math:`\frac{2}{\sqrt{\pi}} e^{-x^2}`, about 1.1284 at :math:`x = 0`.

x = torch.tensor(0.0, requires_grad=True)
torch.special.erf(x).backward()
print(x.grad)  # tensor(1.1284)
