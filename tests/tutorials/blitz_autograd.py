# 60-minute blitz, "A Gentle Introduction to torch.autograd": the code that needs no torchvision
# ("Differentiation in Autograd", "Exclusion from the DAG"), in order.
# https://github.com/pytorch/tutorials/blob/main/beginner_source/blitz/autograd_tutorial.py
# Left out: the resnet18 examples (torchvision). Changed: the two checks of the gradients are
# printed (the tutorial leaves them as a notebook cell's displayed value).
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# Check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
