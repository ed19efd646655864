# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Fitting a line by gradient descent
#
# Three points lie exactly on $y = 2x$.  We fit $\hat y = w x + b$ by
# minimising the mean squared error
#
# $$L(w, b) = \frac{1}{3}\sum_{i=1}^{3} (w x_i + b - y_i)^2 .$$
#
# Its partial derivatives are
# $\frac{\partial L}{\partial w} = \frac{2}{3}\sum_i (w x_i + b - y_i)\, x_i$ and
# $\frac{\partial L}{\partial b} = \frac{2}{3}\sum_i (w x_i + b - y_i)$.
#
# At the start, $w = b = 0$, the loss is $56/3 \approx 18.6667$ and
# $\partial L / \partial b = -8$.

# %%
import torch

X = torch.tensor([1.0, 2.0, 3.0])
Y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
learning_rate = 0.05

# %%
for step in range(3):
    loss = ((w * X + b - Y) ** 2).mean()
    loss.backward()
    print(f"step {step}: loss={loss.item():.4f} w={w.item():.4f} b={b.item():.4f} "
          f"dw={w.grad.item():.4f} db={b.grad.item():.4f}", end=" ")
    with torch.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
    print(f"-> w={w.item():.4f} b={b.item():.4f}")
    w.grad.zero_()
    b.grad.zero_()

# Output:
# step 0: loss=18.6667 w=0.0000 b=0.0000 dw=-18.6667 db=-8.0000 -> w=0.9333 b=0.4000
# step 1: loss=3.7630 w=0.9333 b=0.4000 dw=-8.3556 db=-3.4667 -> w=1.3511 b=0.8178
# step 2: loss=0.8055 w=1.3511 b=0.5733 dw=-3.7630 db=-1.4489 -> w=1.5393 b=0.6458

# %% [markdown]
# The weight moves towards 2 and the bias back towards 0 as the fit improves.
# One more step, written out for the weight alone:
# $w \leftarrow 1.5393 - 0.05 \times \frac{\partial L}{\partial w}$.

# %%
# A variant with momentum, written in a hurry.
velocity = torch.zeros(())
loss = ((w * X + b - Y) ** 2).mean()
loss.backward()
velocity = 0.9 * velocity + w.grad
with torch.no_grad():
    w -= eta * velocity
print(w)
# tensor(1.6286, requires_grad=True)

# %% [markdown]
# The gradient of the loss with respect to the predictions is
# $\frac{\partial L}{\partial \hat y_i} = \frac{2}{3}(\hat y_i - y_i)$, which is
# zero only when every prediction is exact.  For a data set of any size $n$ the
# same computation gives
# $\frac{\partial L}{\partial w} = \frac{2}{n}\sum_{i=1}^{n} (w x_i + b - y_i)\, x_i$.
