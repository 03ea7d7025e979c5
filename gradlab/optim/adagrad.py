"""optim.Adagrad, PyTorch's single-tensor implementation (the one it runs on CPU)."""
from .._creation import full_like
from ..tensor import Tensor
from .optimizer import Optimizer, _to_scalar, step_counter, update_step


class Adagrad(Optimizer):
    """Divides the gradient by the root of the sum of all its past squares."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # Adagrad's state exists from the start
            for param in group["params"]:
                self._state(param)

    def _state(self, param):
        state = self.state[param]
        if not state:
            state["step"] = step_counter()
            state["sum"] = full_like(param, self.defaults["initial_accumulator_value"])
        return state

    @update_step
    def step(self, group):
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        lr, lr_decay, eps = _to_scalar(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        for param in [p for p in group["params"] if p.grad is not None]:
            state = self._state(param)
            state_sum, step_t = state["sum"], state["step"]
            step_t += 1
            step = step_t.item()
            grad = -param.grad if group["maximize"] else param.grad
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum.addcmul_(grad, grad, value=1)
            std = state_sum.sqrt() + eps if group["differentiable"] else state_sum.sqrt().add_(eps)
            param.addcdiv_(grad, std, value=-clr)
