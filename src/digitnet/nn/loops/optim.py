"""SGD and Adam one coordinate at a time (the loops tier): each update rule is a statement about one number.

    SGD    p_i <- p_i - lr * g_i
    Adam   m_i <- b1 m_i + (1 - b1) g_i            v_i <- b2 v_i + (1 - b2) g_i^2
           p_i <- p_i - lr * (m_i / (1 - b1^t)) / (sqrt(v_i / (1 - b2^t)) + eps)

Clipping, weight decay, max-norm and the saved state are the reference optimiser's
(digitnet/nn/optim.py); the other optimisers of this tier are the reference ones.
"""

from __future__ import annotations

import math

from digitnet.nn import optim as reference


class SGD(reference.SGD):
    tier = "loops"

    def _update(self, name, param, g):
        p, g = param.reshape(-1), g.reshape(-1)  # p: a view of the (contiguous) parameter
        for i in range(p.size):
            p[i] -= self.lr * g[i]


class Adam(reference.Adam):
    tier = "loops"

    def _update(self, name, param, g):
        b1, b2 = self.beta1, self.beta2
        p, g = param.reshape(-1), g.reshape(-1)
        m, v = self._slot("m", name, param).reshape(-1), self._slot("v", name, param).reshape(-1)
        for i in range(p.size):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            m_hat = m[i] / (1 - b1**self.t)
            v_hat = v[i] / (1 - b2**self.t)
            p[i] -= self.lr * m_hat / (math.sqrt(v_hat) + self.eps)


class AdamW(Adam, reference.AdamW):
    pass
