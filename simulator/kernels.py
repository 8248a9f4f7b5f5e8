"""Numba update kernels: torch.optim's single-tensor CPU rules on a 2-D point, bit for bit.

Every kernel has the same signature ``kernel(p, g, lr, hp, state, fused)``: it updates the point
``p`` (2,) and the optimizer ``state`` (1-D float64) in place from the raw gradient ``g`` (2,).
``hp`` is the float vector the registry packs (``OptimizerSpec.pack``) in the order of each
optimizer's hyperparameters, lr excepted, booleans as 0/1, pairs as two slots, ``None`` as NaN.
``lr`` is an argument of its own, the one channel it travels by, because schedules change it every
step. Weight decay (L2 or decoupled) and maximize are the shared pieces below, written once.

A kernel is listed nowhere here: the registry record (``simulator.optimizers``) names it, the
kernel ids are the order of the registry, and ``build_dispatch`` makes the id dispatch the compiled
loops call (``engine``, ``batch``).

Each line mirrors one torch operation and its rounding; the rules are spelled out in
../shared/reference/torch-optim-numerics.md (section 3). Scalar maths that torch does on Python
floats is done here left to right in the same order, with ``cpow`` for every ``**``.
"""

import hashlib
import inspect
import math
from pathlib import Path

from numba import njit
from numba.core.caching import FunctionCache

from simulator import numerics
from simulator.numerics import (
    add_scaled,
    addcdiv,
    addcmul,
    cpow,
    lerp,
    madd,
    maximum,
    sign,
    to_f32,
)

# ---- shared pieces of the update, written once (as optax composes add_decayed_weights) ----------
# Plain compiled functions, which LLVM inlines: marked inline="always" (Numba-level inlining at
# every call site) they doubled the cold compile of batch.py's loop, which inlines every kernel.
# Each keeps torch's own order of operations, which decides the rounding.


@njit(cache=True, error_model="numpy")
def direction(g, i, maximize):
    """torch: ``grad = grad if not maximize else -grad``."""
    return -g[i] if maximize else g[i]


@njit(cache=True, error_model="numpy")
def l2_decayed(gi, pi, weight_decay, fused):
    """L2 weight decay through the gradient. torch: ``grad = grad.add(param, alpha=weight_decay)``,
    only when weight_decay != 0."""
    if weight_decay != 0.0:
        return add_scaled(gi, pi, weight_decay, fused)
    return gi


@njit(cache=True, error_model="numpy")
def decoupled_decayed(pi, lr, weight_decay):
    """Decoupled weight decay on the point. torch: ``param.mul_(1 - lr * weight_decay)``."""
    return pi * (1.0 - lr * weight_decay)


@njit(cache=True, error_model="numpy")
def weight_decayed(gi, pi, lr, weight_decay, decoupled, fused):
    """(gradient, point) after either form of weight decay, as Adam, NAdam and RAdam choose it."""
    if weight_decay != 0.0:
        if decoupled:
            return gi, decoupled_decayed(pi, lr, weight_decay)
        return add_scaled(gi, pi, weight_decay, fused), pi
    return gi, pi


# SGD. hp: momentum, dampening, weight_decay, nesterov, maximize
# state: [momentum_buffer_set, momentum_buffer x2]
@njit(cache=True, error_model="numpy")
def sgd_step(p, g, lr, hp, state, fused):
    momentum, dampening, weight_decay = hp[0], hp[1], hp[2]
    nesterov, maximize = hp[3] != 0.0, hp[4] != 0.0
    first = state[0] == 0.0
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        if momentum != 0.0:
            if first:
                buf = gi  # torch clones the first gradient: no dampening on step 1
            else:
                buf = madd(1.0 - dampening, gi, state[1 + i] * momentum, fused)
            state[1 + i] = buf
            gi = add_scaled(gi, buf, momentum, fused) if nesterov else buf
        p[i] = add_scaled(p[i], gi, -lr, fused)
    if momentum != 0.0:
        state[0] = 1.0


# Adam and AdamW. hp: beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled
# state: [step, exp_avg x2, exp_avg_sq x2, max_exp_avg_sq x2]
@njit(cache=True, error_model="numpy")
def adam_step(p, g, lr, hp, state, fused):
    beta1, beta2, eps, weight_decay = hp[0], hp[1], hp[2], hp[3]
    amsgrad, maximize, decoupled = hp[4] != 0.0, hp[5] != 0.0, hp[6] != 0.0
    state[0] += 1.0
    t = state[0]
    bias_correction1 = 1.0 - cpow(beta1, t)
    bias_correction2 = 1.0 - cpow(beta2, t)
    step_size = lr / bias_correction1
    bias_correction2_sqrt = cpow(bias_correction2, 0.5)
    for i in range(2):
        gi, p[i] = weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay, decoupled, fused)
        state[1 + i] = lerp(state[1 + i], gi, 1.0 - beta1, fused)
        state[3 + i] = addcmul(state[3 + i] * beta2, gi, gi, 1.0 - beta2, fused)
        second_moment = state[3 + i]
        if amsgrad:
            state[5 + i] = maximum(state[5 + i], state[3 + i])
            second_moment = state[5 + i]
        denom = math.sqrt(second_moment) / bias_correction2_sqrt + eps
        p[i] = addcdiv(p[i], state[1 + i], denom, -step_size)


# Adamax. hp: beta1, beta2, eps, weight_decay, maximize
# state: [step, exp_avg x2, exp_inf x2]
@njit(cache=True, error_model="numpy")
def adamax_step(p, g, lr, hp, state, fused):
    beta1, beta2, eps, weight_decay, maximize = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0
    state[0] += 1.0
    clr = lr / (1.0 - cpow(beta1, state[0]))
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        state[1 + i] = lerp(state[1 + i], gi, 1.0 - beta1, fused)
        state[3 + i] = maximum(state[3 + i] * beta2, abs(gi) + eps)
        p[i] = addcdiv(p[i], state[1 + i], state[3 + i], -clr)


# Adagrad. hp: lr_decay, weight_decay, initial_accumulator_value, eps, maximize
# state: [step, sum x2]
@njit(cache=True, error_model="numpy")
def adagrad_step(p, g, lr, hp, state, fused):
    lr_decay, weight_decay, initial_accumulator_value = hp[0], hp[1], hp[2]
    eps, maximize = hp[3], hp[4] != 0.0
    if state[0] == 0.0:  # torch fills the accumulator in __init__
        state[1] = initial_accumulator_value
        state[2] = initial_accumulator_value
    state[0] += 1.0
    clr = lr / (1.0 + (state[0] - 1.0) * lr_decay)
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        state[1 + i] = addcmul(state[1 + i], gi, gi, 1.0, fused)
        std = math.sqrt(state[1 + i]) + eps
        p[i] = addcdiv(p[i], gi, std, -clr)


# Adadelta. hp: rho, eps, weight_decay, maximize
# state: [step, square_avg x2, acc_delta x2]
@njit(cache=True, error_model="numpy")
def adadelta_step(p, g, lr, hp, state, fused):
    rho, eps, weight_decay, maximize = hp[0], hp[1], hp[2], hp[3] != 0.0
    state[0] += 1.0
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        state[1 + i] = addcmul(state[1 + i] * rho, gi, gi, 1.0 - rho, fused)
        std = math.sqrt(state[1 + i] + eps)
        delta = (math.sqrt(state[3 + i] + eps) / std) * gi
        state[3 + i] = addcmul(state[3 + i] * rho, delta, delta, 1.0 - rho, fused)
        p[i] = add_scaled(p[i], delta, -lr, fused)


# ASGD. hp: lambd, alpha, t0, weight_decay, maximize
# state: [step, eta, mu, ax x2]; eta and mu are float32 in torch (default-dtype scalars)
@njit(cache=True, error_model="numpy")
def asgd_step(p, g, lr, hp, state, fused):
    lambd, alpha, t0, weight_decay, maximize = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0
    if state[0] == 0.0:
        state[1] = to_f32(lr)
        state[2] = 1.0
    state[0] += 1.0
    t = state[0]
    eta, mu = state[1], state[2]
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        p[i] = p[i] * (1.0 - lambd * eta)
        p[i] = add_scaled(p[i], gi, -eta, fused)
        if mu != 1.0:
            state[3 + i] = state[3 + i] + (p[i] - state[3 + i]) * mu
        else:
            state[3 + i] = p[i]
    state[1] = to_f32(lr / cpow(1.0 + lambd * lr * t, alpha))
    state[2] = to_f32(1.0 / max(1.0, t - t0))


# NAdam. hp: beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize
# state: [step, mu_product, exp_avg x2, exp_avg_sq x2]; mu_product is float32 in torch
@njit(cache=True, error_model="numpy")
def nadam_step(p, g, lr, hp, state, fused):
    beta1, beta2, eps, weight_decay = hp[0], hp[1], hp[2], hp[3]
    momentum_decay, decoupled, maximize = hp[4], hp[5] != 0.0, hp[6] != 0.0
    if state[0] == 0.0:
        state[1] = 1.0
    state[0] += 1.0
    t = state[0]
    bias_correction2 = 1.0 - cpow(beta2, t)
    mu = beta1 * (1.0 - 0.5 * cpow(0.96, t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * cpow(0.96, (t + 1.0) * momentum_decay))
    state[1] = to_f32(state[1] * to_f32(mu))
    mu_product = state[1]
    mu_product_next = mu_product * mu_next
    grad_coefficient = -lr * (1.0 - mu) / (1.0 - mu_product)
    momentum_coefficient = (-lr * mu_next) / (1.0 - mu_product_next)
    for i in range(2):
        gi, p[i] = weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay, decoupled, fused)
        state[2 + i] = lerp(state[2 + i], gi, 1.0 - beta1, fused)
        state[4 + i] = addcmul(state[4 + i] * beta2, gi, gi, 1.0 - beta2, fused)
        denom = math.sqrt(state[4 + i] / bias_correction2) + eps
        p[i] = addcdiv(p[i], gi, denom, grad_coefficient)
        p[i] = addcdiv(p[i], state[2 + i], denom, momentum_coefficient)


# RAdam. hp: beta1, beta2, eps, weight_decay, decoupled, maximize
# state: [step, exp_avg x2, exp_avg_sq x2]
@njit(cache=True, error_model="numpy")
def radam_step(p, g, lr, hp, state, fused):
    beta1, beta2, eps, weight_decay = hp[0], hp[1], hp[2], hp[3]
    decoupled, maximize = hp[4] != 0.0, hp[5] != 0.0
    state[0] += 1.0
    t = state[0]
    bias_correction1 = 1.0 - cpow(beta1, t)
    bias_correction2 = 1.0 - cpow(beta2, t)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * t * cpow(beta2, t) / bias_correction2
    rectified = rho_t > 5.0
    rect = 0.0
    if rectified:
        rect = cpow(
            (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t),
            0.5,
        )
    for i in range(2):
        gi, p[i] = weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay, decoupled, fused)
        state[1 + i] = lerp(state[1 + i], gi, 1.0 - beta1, fused)
        state[3 + i] = addcmul(state[3 + i] * beta2, gi, gi, 1.0 - beta2, fused)
        corrected_avg = state[1 + i] / bias_correction1
        if rectified:
            # torch: python float / tensor is computed as reciprocal() * float
            adaptive = (1.0 / (math.sqrt(state[3 + i]) + eps)) * cpow(bias_correction2, 0.5)
            p[i] = p[i] - ((corrected_avg * lr) * adaptive) * rect
        else:
            p[i] = p[i] - corrected_avg * lr


# RMSprop. hp: alpha, eps, weight_decay, momentum, centered, maximize
# state: [step, square_avg x2, momentum_buffer x2, grad_avg x2]
@njit(cache=True, error_model="numpy")
def rmsprop_step(p, g, lr, hp, state, fused):
    alpha, eps, weight_decay, momentum = hp[0], hp[1], hp[2], hp[3]
    centered, maximize = hp[4] != 0.0, hp[5] != 0.0
    state[0] += 1.0
    for i in range(2):
        gi = l2_decayed(direction(g, i, maximize), p[i], weight_decay, fused)
        state[1 + i] = addcmul(state[1 + i] * alpha, gi, gi, 1.0 - alpha, fused)
        if centered:
            state[5 + i] = lerp(state[5 + i], gi, 1.0 - alpha, fused)
            avg = math.sqrt(addcmul(state[1 + i], state[5 + i], state[5 + i], -1.0, fused))
        else:
            avg = math.sqrt(state[1 + i])
        avg = avg + eps
        if momentum > 0.0:
            state[3 + i] = addcdiv(state[3 + i] * momentum, gi, avg, 1.0)
            p[i] = add_scaled(p[i], state[3 + i], -lr, fused)
        else:
            p[i] = addcdiv(p[i], gi, avg, -lr)


# Rprop. hp: etaminus, etaplus, step_size_min, step_size_max, maximize
# state: [step, prev x2, step_size x2]
@njit(cache=True, error_model="numpy")
def rprop_step(p, g, lr, hp, state, fused):
    etaminus, etaplus, step_size_min, step_size_max = hp[0], hp[1], hp[2], hp[3]
    maximize = hp[4] != 0.0
    if state[0] == 0.0:  # the step size starts at the lr of the first step, then ignores lr
        state[3] = lr
        state[4] = lr
    state[0] += 1.0
    for i in range(2):
        gi = direction(g, i, maximize)
        agreement = sign(gi * state[1 + i])
        if agreement > 0.0:
            factor = etaplus
        elif agreement < 0.0:
            factor = etaminus
        else:
            factor = 1.0
        step_size = state[3 + i] * factor
        state[3 + i] = min(max(step_size, step_size_min), step_size_max)
        if factor == etaminus:  # torch compares the factor by value, quirk included
            gi = 0.0
        p[i] = addcmul(p[i], sign(gi), state[3 + i], -1.0, fused)
        state[1 + i] = gi


# Adafactor on a (2,) vector: not element-wise (uses the RMS of the point and of the update).
# hp: beta2_decay, eps1 (NaN = machine epsilon), eps2, d, weight_decay, maximize
# state: [step, variance x2]
@njit(cache=True, error_model="numpy")
def adafactor_step(p, g, lr, hp, state, fused):
    beta2_decay, eps1, eps2, d, weight_decay = hp[0], hp[1], hp[2], hp[3], hp[4]
    maximize = hp[5] != 0.0
    if eps1 != eps1:
        eps1 = 2.220446049250313e-16  # torch.finfo(float64).eps
    state[0] += 1.0
    t = state[0]
    one_minus_beta2_t = cpow(t, beta2_decay)
    rho_t = min(lr, 1.0 / cpow(t, 0.5))
    root_n = cpow(2.0, 0.5)
    point_norm = math.sqrt(madd(p[1], p[1], p[0] * p[0], fused))
    alpha = max(eps2, point_norm / root_n) * rho_t
    if weight_decay != 0.0:
        for i in range(2):
            p[i] = decoupled_decayed(p[i], lr, weight_decay)
    update = [0.0, 0.0]
    for i in range(2):
        gi = direction(g, i, maximize)
        state[1 + i] = lerp(state[1 + i], gi * gi, one_minus_beta2_t, fused)
        update[i] = (1.0 / math.sqrt(max(state[1 + i], eps1 * eps1))) * gi
    update_norm = math.sqrt(madd(update[1], update[1], update[0] * update[0], fused))
    denom = max(1.0, update_norm / (root_n * d))
    for i in range(2):
        p[i] = add_scaled(p[i], update[i], -alpha / denom, fused)


# ---- beyond torch.optim: pytorch_optimizer 4.1.0's rules (its default CPU path) ---------------
# Its classes share BaseOptimizer's pieces: maximize negates the gradient first, then
# ``apply_weight_decay`` (decoupled: ``p.mul_(1 - wd * (1 if fixed_decay else lr))``; coupled:
# ``grad.add_(p, alpha=wd)``), and ``apply_cautious`` masks an update that disagrees with a sign.


@njit(cache=True, error_model="numpy")
def po_weight_decayed(gi, pi, lr, weight_decay, decouple, fixed_decay, fused):
    """(gradient, point) after pytorch_optimizer's ``apply_weight_decay``."""
    if weight_decay == 0.0:
        return gi, pi
    if decouple:
        return gi, pi * (1.0 - weight_decay * (1.0 if fixed_decay else lr))
    return add_scaled(gi, pi, weight_decay, fused), pi


@njit(cache=True, error_model="numpy")
def cautious_factor(u0, u1, g0, g1):
    """``apply_cautious``'s scale of the kept coordinates: numel / (mask.sum() + 1), which torch
    computes as a Python int over a tensor, ``reciprocal() * numel``; 0 for a masked coordinate."""
    kept0 = 1.0 if u0 * g0 > 0.0 else 0.0
    kept1 = 1.0 if u1 * g1 > 0.0 else 0.0
    factor = (1.0 / (kept0 + kept1 + 1.0)) * 2.0
    return kept0 * factor, kept1 * factor


@njit(cache=True, error_model="numpy")
def rectified_step_size(lr, beta2, t, rectify, n_sma_threshold, degenerated_to_sgd):
    """(step size, N_sma) of pytorch_optimizer's ``get_rectify_step_size``, its Python float maths
    left to right (AdaBelief and Lamb share it). Without rectify: (lr, 0). Below the threshold and
    not degenerated to SGD the step size is negative: the reference then leaves the point alone."""
    if not rectify:
        return lr, 0.0
    n_sma_max = 2.0 / (1.0 - beta2) - 1.0
    beta2_t = cpow(beta2, t)
    n_sma = n_sma_max - 2.0 * t * beta2_t / (1.0 - beta2_t)
    if n_sma >= n_sma_threshold:
        rt = math.sqrt((1.0 - beta2_t) * (n_sma - 4.0) / (n_sma_max - 4.0) * (n_sma - 2.0) / n_sma
                       * n_sma_max / (n_sma_max - 2.0))
    elif degenerated_to_sgd:
        rt = 1.0
    else:
        rt = -1.0
    return lr * rt, n_sma


# Lion (pytorch_optimizer.Lion). hp: beta1, beta2, weight_decay, weight_decouple, fixed_decay,
# maximize, cautious. state: [exp_avg x2]
@njit(cache=True, error_model="numpy")
def lion_step(p, g, lr, hp, state, fused):
    beta1, beta2, weight_decay = hp[0], hp[1], hp[2]
    decouple, fixed_decay, maximize, cautious = hp[3] != 0.0, hp[4] != 0.0, hp[5] != 0.0, hp[6] != 0.0
    grad = [0.0, 0.0]
    update = [0.0, 0.0]
    for i in range(2):
        grad[i], p[i] = po_weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay,
                                          decouple, fixed_decay, fused)
        update[i] = sign(lerp(state[i], grad[i], 1.0 - beta1, fused))
        state[i] = lerp(state[i], grad[i], 1.0 - beta2, fused)
    if cautious:
        mask0, mask1 = cautious_factor(update[0], update[1], grad[0], grad[1])
        update[0] = update[0] * mask0
        update[1] = update[1] * mask1
    for i in range(2):
        p[i] = add_scaled(p[i], update[i], -lr, fused)


# AdaBelief (pytorch_optimizer.AdaBelief). hp: beta1, beta2, weight_decay, weight_decouple,
# fixed_decay, rectify, n_sma_threshold, degenerated_to_sgd, ams_bound, eps, maximize, adam_debias
# state: [step, exp_avg x2, exp_avg_var x2, max_exp_avg_var x2]
@njit(cache=True, error_model="numpy")
def adabelief_step(p, g, lr, hp, state, fused):
    beta1, beta2, weight_decay = hp[0], hp[1], hp[2]
    decouple, fixed_decay, rectify = hp[3] != 0.0, hp[4] != 0.0, hp[5] != 0.0
    n_sma_threshold, degenerated_to_sgd, ams_bound = hp[6], hp[7] != 0.0, hp[8] != 0.0
    eps, maximize, adam_debias = hp[9], hp[10] != 0.0, hp[11] != 0.0
    state[0] += 1.0
    t = state[0]
    bias_correction1 = 1.0 - cpow(beta1, t)
    step_size, n_sma = rectified_step_size(lr, beta2, t, rectify, n_sma_threshold, degenerated_to_sgd)
    if not adam_debias:
        step_size = step_size / bias_correction1
    bias_correction2_sq = math.sqrt(1.0 - cpow(beta2, t))
    for i in range(2):
        gi, p[i] = po_weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay,
                                     decouple, fixed_decay, fused)
        state[1 + i] = lerp(state[1 + i], gi, 1.0 - beta1, fused)
        residual = gi - state[1 + i]
        state[3 + i] = addcmul(state[3 + i] * beta2, residual, residual, 1.0 - beta2, fused) + eps
        second_moment = state[3 + i]
        if ams_bound:
            state[5 + i] = maximum(state[5 + i], state[3 + i])
            second_moment = state[5 + i]
        denom = math.sqrt(second_moment + 0.0) + 0.0  # apply_ams_bound with both eps at 0
        if not rectify:
            p[i] = addcdiv(p[i], state[1 + i], denom / bias_correction2_sq + eps, -step_size)
        elif n_sma >= n_sma_threshold:
            p[i] = addcdiv(p[i], state[1 + i], denom + eps, -step_size)
        elif step_size > 0.0:
            p[i] = add_scaled(p[i], state[1 + i], -step_size, fused)


# ADOPT (pytorch_optimizer.ADOPT). hp: beta1, beta2, clip_lambda (the exponent q of the clip
# step**q; NaN: no clipping), weight_decay, weight_decouple, fixed_decay, eps, maximize, cautious
# state: [step, exp_avg x2, exp_avg_sq x2]
@njit(cache=True, error_model="numpy")
def adopt_step(p, g, lr, hp, state, fused):
    beta1, beta2, clip_exponent, weight_decay = hp[0], hp[1], hp[2], hp[3]
    decouple, fixed_decay, eps = hp[4] != 0.0, hp[5] != 0.0, hp[6]
    maximize, cautious = hp[7] != 0.0, hp[8] != 0.0
    state[0] += 1.0
    t = state[0]
    grad = [0.0, 0.0]
    for i in range(2):
        grad[i], p[i] = po_weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay,
                                          decouple, fixed_decay, fused)
    if t == 1.0:  # the first step only fills the second moment
        for i in range(2):
            state[3 + i] = addcmul(state[3 + i], grad[i], grad[i], 1.0, fused)
        return
    clip = cpow(t, clip_exponent)  # clip_lambda(step) = math.pow(step, q)
    normed = [0.0, 0.0]
    for i in range(2):
        denom = math.sqrt(state[3 + i])
        if denom < eps:  # clamp_(min=eps); a NaN stays NaN, as in torch
            denom = eps
        normed[i] = grad[i] / denom
        if clip_exponent == clip_exponent:  # clamp_(-clip, clip), NaN kept
            if normed[i] < -clip:
                normed[i] = -clip
            elif normed[i] > clip:
                normed[i] = clip
        state[1 + i] = lerp(state[1 + i], normed[i], 1.0 - beta1, fused)
    update = [state[1], state[2]]
    if cautious:
        mask0, mask1 = cautious_factor(update[0], update[1], normed[0], normed[1])
        update[0] = update[0] * mask0
        update[1] = update[1] * mask1
    for i in range(2):
        p[i] = add_scaled(p[i], update[i], -lr, fused)
        state[3 + i] = addcmul(state[3 + i] * beta2, grad[i], grad[i], 1.0 - beta2, fused)


# Adan (pytorch_optimizer.Adan). hp: beta1, beta2, beta3, weight_decay, weight_decouple,
# max_grad_norm (only 0: the registry refuses clipping), eps, maximize
# state: [step, exp_avg x2, exp_avg_sq x2, exp_avg_diff x2, previous_grad x2]
@njit(cache=True, error_model="numpy")
def adan_step(p, g, lr, hp, state, fused):
    beta1, beta2, beta3, weight_decay = hp[0], hp[1], hp[2], hp[3]
    decouple, eps, maximize = hp[4] != 0.0, hp[6], hp[7] != 0.0
    if state[0] == 0.0:
        # init_group clones the raw gradient times -1 before maximize negates it: with maximize the
        # first gradient difference is -2 g, not 0, in the reference, and so here
        state[7] = g[0] * -1.0
        state[8] = g[1] * -1.0
    state[0] += 1.0
    t = state[0]
    step_size = lr / (1.0 - cpow(beta1, t))
    diff_step_size = lr * beta2 / (1.0 - cpow(beta2, t))
    bias_correction3_sq = math.sqrt(1.0 - cpow(beta3, t))
    for i in range(2):
        gi = direction(g, i, maximize)
        grad_diff = state[7 + i] + gi
        state[1 + i] = lerp(state[1 + i], gi, 1.0 - beta1, fused)
        state[5 + i] = lerp(state[5 + i], grad_diff, 1.0 - beta2, fused)
        grad_diff = grad_diff * beta2 + gi  # mul_ then add_: two roundings, never fused
        state[3 + i] = addcmul(state[3 + i] * beta3, grad_diff, grad_diff, 1.0 - beta3, fused)
        denom = math.sqrt(state[3 + i]) / bias_correction3_sq + eps
        if weight_decay != 0.0 and decouple:
            p[i] = p[i] * (1.0 - lr * weight_decay)
        p[i] = addcdiv(p[i], state[1 + i], denom, -step_size)
        p[i] = addcdiv(p[i], state[5 + i], denom, -diff_step_size)
        if weight_decay != 0.0 and not decouple:
            p[i] = p[i] / (1.0 + lr * weight_decay)  # a proximal decay, not an L2 gradient term
        state[7 + i] = -gi


@njit(cache=True, error_model="numpy")
def norm2(x, y, fused):
    """torch.linalg.norm / _foreach_norm of a 2-element float64 vector: sqrt(fma(y, y, x * x))
    where torch fuses (measured bit for bit), sqrt(x * x + y * y) otherwise."""
    return math.sqrt(madd(y, y, x * x, fused))


# LAMB (pytorch_optimizer.Lamb). hp: beta1, beta2, weight_decay, weight_decouple, fixed_decay,
# rectify, degenerated_to_sgd, n_sma_threshold, grad_averaging, max_grad_norm (used only by
# pre_norm), adam, pre_norm (refused by the registry), eps, maximize, adam_debias
# state: [step, exp_avg x2, exp_avg_sq x2]
# The reference takes two paths with different roundings: its batched (foreach) one without
# rectify, its per-parameter one with it; each is followed below.
@njit(cache=True, error_model="numpy")
def lamb_step(p, g, lr, hp, state, fused):
    beta1, beta2, weight_decay = hp[0], hp[1], hp[2]
    decouple, fixed_decay, rectify = hp[3] != 0.0, hp[4] != 0.0, hp[5] != 0.0
    degenerated_to_sgd, n_sma_threshold, grad_averaging = hp[6] != 0.0, hp[7], hp[8] != 0.0
    adam, eps, maximize, adam_debias = hp[10] != 0.0, hp[12], hp[13] != 0.0, hp[14] != 0.0
    clamp = 10.0  # Lamb.clamp: the largest weight norm in the trust ratio
    state[0] += 1.0
    t = state[0]
    beta3 = 1.0 - beta1 if grad_averaging else 1.0
    bias_correction1 = 1.0 - cpow(beta1, t)
    step_size, n_sma = rectified_step_size(lr, beta2, t, rectify, n_sma_threshold, degenerated_to_sgd)
    if not adam_debias:
        step_size = step_size / bias_correction1
    decay_factor = 1.0 - weight_decay * (1.0 if fixed_decay else lr)
    update = [0.0, 0.0]
    if not rectify:  # the batched path
        for i in range(2):
            gi = direction(g, i, maximize)
            if decouple and weight_decay != 0.0:
                p[i] = p[i] * decay_factor
            state[1 + i] = add_scaled(state[1 + i] * beta1, gi, beta3, fused)
            state[3 + i] = addcmul(state[3 + i] * beta2, gi, gi, 1.0 - beta2, fused)
            update[i] = (1.0 / (math.sqrt(state[3 + i]) + eps)) * state[1 + i]
            if not decouple and weight_decay > 0.0:
                update[i] = add_scaled(update[i], p[i], weight_decay, fused)
        weight_norm = norm2(p[0], p[1], fused)
        if weight_norm > clamp:  # clamp_(max=10); NaN kept
            weight_norm = clamp
        p_norm = norm2(update[0], update[1], fused)
        trust_ratio = weight_norm / (p_norm + eps) if weight_norm != 0.0 and p_norm != 0.0 else 1.0
        for i in range(2):
            if not adam:
                update[i] = update[i] * trust_ratio
            p[i] = add_scaled(p[i], update[i], -step_size, fused)
        return
    # the per-parameter path (rectify): L2 decay has no gradient to go into there, so it is lost
    denom = [0.0, 0.0]
    for i in range(2):
        gi = direction(g, i, maximize)
        state[1 + i] = add_scaled(state[1 + i] * beta1, gi, beta3, fused)
        state[3 + i] = addcmul(state[3 + i] * beta2, gi, gi, 1.0 - beta2, fused)
        if decouple and weight_decay != 0.0:
            p[i] = p[i] * decay_factor
    if step_size <= 0.0:
        return
    adaptive = n_sma >= n_sma_threshold
    for i in range(2):
        if adaptive:
            denom[i] = math.sqrt(state[3 + i]) + eps
            update[i] = addcdiv(p[i], state[1 + i], denom[i], -step_size)
        else:
            update[i] = add_scaled(p[i], state[1 + i], -step_size, fused)  # the point moved, not the step
    weight_norm = norm2(p[0], p[1], fused)
    if weight_norm < 0.0:  # clamp_(min=0, max=10); NaN kept
        weight_norm = 0.0
    elif weight_norm > clamp:
        weight_norm = clamp
    p_norm = norm2(update[0], update[1], fused)
    trust_ratio = 1.0 if weight_norm == 0.0 or p_norm == 0.0 else weight_norm / (p_norm + eps)
    if adam:
        trust_ratio = 1.0
    for i in range(2):
        if adaptive:
            p[i] = addcdiv(p[i], state[1 + i], denom[i], -step_size * trust_ratio)
        else:
            p[i] = add_scaled(p[i], state[1 + i], -step_size * trust_ratio, fused)


# AdEMAMix (pytorch_optimizer.AdEMAMix). hp: beta1, beta2, beta3, weight_decay, weight_decouple,
# fixed_decay, alpha, t_alpha_beta3 (NaN: no warm-up), eps, maximize, cautious
# state: [step, exp_avg x2, exp_avg_sq x2, exp_avg_slow x2]
@njit(cache=True, error_model="numpy")
def ademamix_step(p, g, lr, hp, state, fused):
    beta1, beta2, beta3, weight_decay = hp[0], hp[1], hp[2], hp[3]
    decouple, fixed_decay, alpha, t_alpha_beta3 = hp[4] != 0.0, hp[5] != 0.0, hp[6], hp[7]
    eps, maximize, cautious = hp[8], hp[9] != 0.0, hp[10] != 0.0
    state[0] += 1.0
    t = state[0]
    bias_correction1 = 1.0 - cpow(beta1, t)
    bias_correction2_sq = math.sqrt(1.0 - cpow(beta2, t))
    alpha_t = alpha
    beta3_t = beta3
    if t_alpha_beta3 == t_alpha_beta3:  # schedule_alpha, schedule_beta3 (Python's min keeps the first)
        warm = t * alpha / t_alpha_beta3
        alpha_t = alpha if alpha < warm else warm
        log_beta1, log_beta3 = math.log(beta1), math.log(beta3)
        fraction = t / t_alpha_beta3
        scheduled = math.exp(log_beta1 * log_beta3
                             / ((1.0 - fraction) * log_beta3 + fraction * log_beta1))
        beta3_t = beta3 if beta3 < scheduled else scheduled
    grad = [0.0, 0.0]
    update = [0.0, 0.0]
    for i in range(2):
        grad[i], p[i] = po_weight_decayed(direction(g, i, maximize), p[i], lr, weight_decay,
                                          decouple, fixed_decay, fused)
        state[1 + i] = lerp(state[1 + i], grad[i], 1.0 - beta1, fused)
        state[3 + i] = addcmul(state[3 + i] * beta2, grad[i], grad[i], 1.0 - beta2, fused)
        state[5 + i] = lerp(state[5 + i], grad[i], 1.0 - beta3_t, fused)
        update[i] = state[1 + i]
    if cautious:
        mask0, mask1 = cautious_factor(update[0], update[1], grad[0], grad[1])
        update[0] = update[0] * mask0
        update[1] = update[1] * mask1
    for i in range(2):
        denom = math.sqrt(state[3 + i]) / bias_correction2_sq + eps
        mixed = add_scaled(update[i] / bias_correction1, state[5 + i], alpha_t, fused)
        p[i] = addcdiv(p[i], mixed, denom, -lr)


@njit(cache=True, error_model="numpy")
def f32_add_scaled(a, b, alpha, fused):
    """torch ``a.add_(b, alpha=alpha)`` on a float32 tensor ``a`` with a float64 ``b``: b and alpha
    become float32 and the multiply-add is float32 (fused where torch fuses). Each float32 operation
    is emulated in float64, then rounded: for a product, a sum and a quotient that is exact."""
    alpha32, b32 = to_f32(alpha), to_f32(b)
    if fused:
        return to_f32(madd(alpha32, b32, a, True))
    return to_f32(a + to_f32(alpha32 * b32))


# Prodigy (pytorch_optimizer.Prodigy). hp: beta1, beta2, beta3 (NaN: sqrt(beta2)), d0, d_coef,
# growth_rate (NaN: no limit), weight_decay, weight_decouple, fixed_decay, bias_correction,
# safeguard_warmup, eps (NaN: the atan2 update), maximize
# state: [step, d, d_max, d_numerator, s x2, p0 x2, exp_avg x2, exp_avg_sq x2]. The reference keeps
# d_numerator and d_de_nom in float32 tensors (torch's default dtype): so does this kernel.
@njit(cache=True, error_model="numpy")
def prodigy_step(p, g, lr, hp, state, fused):
    beta1, beta2, beta3, d0, d_coef, growth_rate = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    weight_decay, decouple, fixed_decay = hp[6], hp[7] != 0.0, hp[8] != 0.0
    bias_correction, safeguard_warmup, eps, maximize = hp[9] != 0.0, hp[10] != 0.0, hp[11], hp[12] != 0.0
    if state[0] == 0.0:  # the reference's group starts at step 1, d = d_max = d0, p0 = the start
        state[0], state[1], state[2] = 1.0, d0, d0
        state[6], state[7] = p[0], p[1]
    if beta3 != beta3:
        beta3 = math.sqrt(beta2)
    t = state[0]
    bias_correction1 = 1.0 - cpow(beta1, t)
    bias_correction2_sq = math.sqrt(1.0 - cpow(beta2, t))
    correction = bias_correction1 / bias_correction2_sq if bias_correction else 1.0
    d, d_max = state[1], state[2]
    d_lr = d * lr / correction
    d_numerator = to_f32(state[3] * to_f32(beta3))
    state[0] = t + 1.0
    grad = [direction(g, 0, maximize), direction(g, 1, maximize)]
    dot = grad[0] * (state[6] - p[0]) + grad[1] * (state[7] - p[1])  # torch.dot: not fused
    d_numerator = f32_add_scaled(d_numerator, dot, (d / d0) * d_lr, fused)
    state[3] = d_numerator
    s_scale = (d / d0) * (d if safeguard_warmup else d_lr)
    for i in range(2):
        state[8 + i] = add_scaled(state[8 + i] * beta1, grad[i], d * (1.0 - beta1), fused)
        state[10 + i] = addcmul(state[10 + i] * beta2, grad[i], grad[i], d * d * (1.0 - beta2), fused)
        state[4 + i] = add_scaled(state[4 + i] * beta3, grad[i], s_scale, fused)
    d_de_nom = to_f32(abs(state[4]) + abs(state[5]))
    if d_de_nom == 0.0:  # the reference returns before the update: no step, d unchanged
        return
    d_hat = to_f32(to_f32(to_f32(d_coef) * d_numerator) / d_de_nom)
    if d == d0:
        d = max(d, d_hat)
    d_max = max(d_max, d_hat)
    d = min(d_max, d * (math.inf if growth_rate != growth_rate else growth_rate))
    state[1], state[2] = d, d_max
    for i in range(2):
        # coupled decay (weight_decouple=False) adds to p.grad after the moments took it: no effect,
        # as in the reference
        if decouple and weight_decay != 0.0:
            p[i] = p[i] * (1.0 - weight_decay * (1.0 if fixed_decay else d_lr))
        de_nom = math.sqrt(state[10 + i])
        if eps == eps:
            p[i] = addcdiv(p[i], state[8 + i], de_nom + d * eps, -d_lr)
        else:
            p[i] = add_scaled(p[i], math.atan2(state[8 + i], de_nom), -d_lr, fused)


# ---- the dispatch, built from the registry's kernel table -------------------------------------


def build_dispatch(steps):
    """``optimizer_step(kernel_id, p, g, lr, hp, state, fused)``, which runs ``steps[kernel_id]``.

    A flat if-chain over the table, so a compiled loop that calls it dispatches on an integer id:
    one compilation for every optimizer instead of one per optimizer (Numba compiles a variant per
    function it is handed). It is written out as source and inlined into its caller: the chain
    itself is never cached, its callers are (``keyed_to``). A chain of closures, one link per
    kernel, does the same but measured 28 % slower to compile and 35 % slower per row-step in
    batch.py's loop, which inlines every kernel.
    """
    lines = ["def optimizer_step(kernel_id, p, g, lr, hp, state, fused):"]
    for kernel_id in range(len(steps)):
        lines.append(f"    {'if' if kernel_id == 0 else 'elif'} kernel_id == {kernel_id}:")
        lines.append(f"        step_{kernel_id}(p, g, lr, hp, state, fused)")
    # No ``return`` after the chain: with one, the loops of batch.py that inline it measured 35 %
    # slower per row-step (the branches no longer end in the inlined kernels).
    if not steps:
        lines.append("    pass")
    namespace = {f"step_{kernel_id}": step for kernel_id, step in enumerate(steps)}
    exec(compile("\n".join(lines), "<simulator.kernels dispatch>", "exec"), namespace)
    return njit(error_model="numpy", inline="always")(namespace["optimizer_step"])


class _KeyedCache(FunctionCache):
    """Numba's on-disk cache with the kernels' sources added to every entry's key.

    It overrides ``FunctionCache._index_key`` and replaces a dispatcher's ``_cache``: Numba internals,
    stable for years, checked against the pinned version by tests/simulator/test_engine.py.
    """

    def __init__(self, py_func, steps: tuple, key: str):
        super().__init__(py_func)
        self.steps = steps  # the table the key was made from
        self._kernels_key = key

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), self._kernels_key)


def kernels_key(steps) -> str:
    """A digest of the kernel table: each kernel's name in order and the sources they are built from."""
    digest = hashlib.sha256()
    files = {inspect.getsourcefile(numerics)}
    for step in steps:
        digest.update(f"{step.py_func.__module__}.{step.py_func.__qualname__};".encode())
        files.add(inspect.getsourcefile(step.py_func))
    for name in sorted(files):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def keyed_to(steps):
    """Decorator for a ``cache=True`` function that calls ``build_dispatch(steps)``: its cached
    machine code is also keyed to the kernel table, so adding, reordering or editing a kernel
    recompiles it. Numba by itself only watches the file the function is written in, and would
    load a loop compiled with yesterday's table."""
    steps = tuple(steps)
    key = kernels_key(steps)

    def decorate(dispatcher):
        dispatcher._cache = _KeyedCache(dispatcher.py_func, steps, key)
        return dispatcher

    return decorate
