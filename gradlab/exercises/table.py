"""Every exercise of the lessons: what it asks, its answer or judge, and its hints."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .judges import (EXERCISE_8_2_HINT, LESSON_10_HINT, LESSON_13_HINT, LESSON_15_HINT,
                     LESSON_17_HINT, LESSON_18_HINT, LESSON_19_HINT, LESSON_6_HINT,
                     bias_step_taken, builds_jacobian_by_columns, differentiates_mul_square,
                     evaluated_without_graph, fixed_inplace_error, kept_each_pass_gradient,
                     kept_intermediate_grad, normalizes_with_its_gradient, one_chunk_deep,
                     penalty_reaches_x, rebuilt_every_step, resets_every_step, stepped_leaf,
                     sums_losses_without_graph, tracked_float_leaf, trains_below_001)
from .judges import LESSON_20_HINT, normalizes_rows, picks_one_probability_per_example


@dataclass(frozen=True)
class Exercise:
    """The expected answer (a number, a nested list of numbers, a string or a bool) and a hint.

    ``task`` says what the answer is (the notebook cell has the full text); ``mistakes`` pairs
    likely wrong answers with a hint aimed at each. A number is right when it is within
    ``tolerance`` of the expected one relative to it (element by element in a list), or within
    ``tolerance`` of 0 when 0 is expected. An exercise with a ``judge`` has no ``expected``
    value: the judge gets the answer as the student gave it (a tensor, an optimizer, ...) and
    returns what is wrong with it, as a hint aimed at that, or None when it is right.
    """
    task: str
    expected: object
    hint: str
    mistakes: tuple = field(default=())
    tolerance: float = 1e-4
    judge: Callable[[object], str | None] | None = None


NOT_REACHED = ("That node needs a freed tensor too, but the pass fails before it gets there: "
               "which node does backward run first?")


EXERCISES = {
    "1.1": Exercise("x.grad after the exercise's cell, where z is made from y.item()", 6.0,
                    "Which paths lead from loss back to x? Print z.requires_grad and "
                    "z.grad_fn: is z part of x's graph?",
                    mistakes=((24.0, "That counts a path through z. z was made from a Python "
                                     "number: does it still remember x?"),
                              (36.0, "That is the value of loss itself; the exercise asks for "
                                     "x.grad after loss.backward()."))),
    "1.2": Exercise("the fixed w of the exercise, whose w.grad holds d loss/dw", None,
                    "Read the error messages: each says what is wrong with w.",
                    judge=tracked_float_leaf),
    "2.1": Exercise("the shape of x.grad for loss = x.sum(dim=1).mean() with x of shape (4, 3)",
                    [4, 3],
                    "A .grad belongs to one tensor, whatever the shapes of the results in "
                    "between: which tensor's .grad is it, and what shape was that tensor made "
                    "with?",
                    mistakes=(([3, 4], "The right numbers, in the wrong order: print the shape "
                                       "of the tensor this .grad belongs to."),)),
    "2.2": Exercise("x.grad for f = x[0] * x[3] + x[:2].mean() at x = [1, 2, 3, 4]",
                    [4.5, 0.5, 0.0, 1.0],
                    "One partial derivative per element: for each element, add up what each "
                    "term of f contributes when only that element changes.",
                    mistakes=(([4.0, 0.5, 0.0, 1.0], "x[0] appears in two terms of f: both "
                                                     "contributions add up."),
                              ([5.0, 1.0, 0.0, 1.0], "A mean divides by the number of "
                                                     "elements it averages, and so does its "
                                                     "gradient."))),
    "3.1": Exercise("[grad_fn nodes, AccumulateGrad nodes] in the graph of the exercise's y",
                    [5, 2],
                    "List the operations in the order they ran and ask, for each, whether it "
                    "was recorded; then ask which leaves get an AccumulateGrad node, and how "
                    "many each. nodes(y) from the lesson checks your count.",
                    mistakes=(([6, 2], "One grad_fn node too many: is an operation recorded "
                                       "when none of its inputs requires grad?"),
                              ([5, 3], "One AccumulateGrad node too many: which leaves get one, "
                                       "and does a leaf used twice get a second?"),
                              ([6, 3], "One node too many of each kind: is an operation on "
                                       "tensors that do not require grad recorded, and does a "
                                       "leaf used twice get a second AccumulateGrad?"))),
    "3.2": Exercise("the node names from u.grad_fn along next_functions[0][0] down to the "
                    "AccumulateGrad node (not included), for u = (x * 2).exp().sum()",
                    ["SumBackward0", "ExpBackward0", "MulBackward0"],
                    "grad_fn is the node of the operation that made the tensor, and each "
                    "next_functions entry leads to the node that made that node's input. Write "
                    "the names as .name() prints them.",
                    mistakes=((["MulBackward0", "ExpBackward0", "SumBackward0"],
                               "That is the order in which the forward pass ran the "
                               "operations. Which operation made u itself?"),)),
    "4.1": Exercise("[parts, their sum]: the incoming gradient of ExpBackward0 for h = a.exp(), "
                    "out = h * h * h at a = 1", [3, 22.16717],
                    "Count the edges into ExpBackward0: each input of each multiplication that is "
                    "h sends one part, the gradient of out with respect to that input. Add the "
                    "parts; ExpBackward0's own derivative comes after.",
                    mistakes=(([3, 60.25661], "That is what ExpBackward0 sends on to a: its "
                                              "incoming gradient times its local derivative. "
                                              "The exercise asks for what it receives."),
                              ([2, 14.77811], "h * h * h is two multiplications, but count the "
                                              "edges into ExpBackward0: one per input of a "
                                              "multiplication that is h.")),
                    tolerance=1e-3),
    "4.2": Exercise("x.grad for out = (x @ W).sum() with x = ones(2, 3), "
                    "W = [[1, 2], [3, 4], [5, 6]]", [[3.0, 7.0, 11.0], [3.0, 7.0, 11.0]],
                    "SumBackward0 sends a (2, 2) matrix of ones to x @ W; MmBackward0 multiplies "
                    "it by W transposed, on the side that gives x's shape, (2, 3).",
                    mistakes=(([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
                               "That is the gradient SumBackward0 sends, in x's shape: "
                               "MmBackward0 still has to multiply it by W transposed."),)),
    "4.3": Exercise("the hand-written grad_W for out = (x @ W).mean(), fixed",
                    [[1.25, 1.25], [1.75, 1.75], [2.25, 2.25]],
                    "A gradient has its input's shape: W.grad is (3, 2), so which product of x "
                    "(2, 3) and grad_y (2, 2) has that shape? And a mean of n elements gives "
                    "each 1/n of the gradient it receives.",
                    mistakes=(([[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]],
                               "The matrix product is right now, the mean's rule is not: out is "
                               "the mean of every element of x @ W."),
                              ([[2.5, 2.5], [3.5, 3.5], [4.5, 4.5]],
                               "Close: count the elements of x @ W that the mean averages."))),
    "5.1": Exercise("x.grad for y = x**2 at x = [1, 2, 3] after "
                    "y.backward(torch.tensor([1., 0.1, 0.01]))", [2.0, 0.4, 0.06],
                    "backward(v) computes the vector-Jacobian product: each element's "
                    "derivative 2*x[i] is multiplied by v[i].",
                    mistakes=(([2.0, 4.0, 6.0], "That is y.sum().backward(): the gradient "
                                                "argument weights each element."),)),
    "5.2": Exercise("x.grad for y = x / x.sum() at x = [1, 2, 3] after "
                    "y.backward(torch.ones_like(y))", [0.0, 0.0, 0.0],
                    "With v all ones, backward gives the gradient of y.sum(). Every y[i] "
                    "depends on every x[j]: what is y.sum() for any x?",
                    mistakes=(([5 / 36, 4 / 36, 3 / 36],
                               "Those are only the Jacobian's diagonal entries dy[i]/dx[i]: "
                               "x[j] also changes every other y[i] through x.sum()."),
                              ([1 / 6, 1 / 6, 1 / 6],
                               "That treats x.sum() as a constant, but it depends on x "
                               "too."))),
    "5.3": Exercise("[shape of v in y.backward(v), shape of W.grad] for y = torch.ones(2, 3) "
                    "@ W with W of shape (3, 5)", [[2, 5], [3, 5]],
                    "v holds one weight per element of the tensor backward starts from; the "
                    "gradient has one entry per element of the tensor it belongs to. Work "
                    "out the shape of y first.",
                    mistakes=(([[3, 5], [3, 5]], "v weights the elements of the tensor "
                                                 "backward starts from: which one is it?"),
                              ([[2, 5], [2, 5]], "A .grad has one entry per element of its "
                                                 "own tensor: whose .grad is it?"))),
    "6.1": Exercise("s.grad for (X * s).sum() with X = [[1, 2, 3], [4, 5, 6]] and s of shape "
                    "(2, 1)", [[6.0], [15.0]],
                    "Each s[i] multiplies every element of row i of X, so its gradient sums "
                    "what those uses receive; and s.grad has s's shape (2, 1), a list of 2 "
                    "one-element lists.",
                    mistakes=(([[3.0], [3.0]], "You counted the uses of each s[i]: each use "
                                               "also passes on its local derivative, the "
                                               "element of X it multiplies."),)),
    "6.2": Exercise("b after the exercise's hand-written gradient step, fixed", None,
                    LESSON_6_HINT, judge=bias_step_taken),
    "6.3": Exercise("s.grad for (s * x + s).sum() with s = 3 (0-d) and x = [1, 2, 3, 4]", 14.0,
                    "s is used by every element twice, once in the product and once in the "
                    "sum: its gradient adds up the parts of all these uses.",
                    mistakes=((11.0, "You counted the `+ s` once: it is broadcast to all "
                                     "4 elements of s * x, like the product."),
                              (10.0, "That is the product's part alone: s is also added "
                                     "to every element."),
                              (2.0, "That is one element's part: s is used by every "
                                    "element of x."))),
    "7.1": Exercise("how many times the hook on w fires when two sequences' losses are added "
                    "and backward runs once", 1,
                    "A hook on a leaf runs with what the leaf's input buffer has added up, "
                    "once per backward pass. How many backward passes does the program run?",
                    mistakes=((8.0, "That counts the uses of w: the engine adds their parts "
                                    "in w's input buffer before the hook sees anything."),
                              (2.0, "The hook fires once per backward pass, not once per "
                                    "sequence: how many times does the program call "
                                    "backward()?"))),
    "7.2": Exercise("[parts h1.grad_fn waits for, parts w's AccumulateGrad waits for] with "
                    "loss = h1 + h2 + h3", [2, 3],
                    "A node waits for one part per edge into it: count the nodes whose "
                    "next_functions hold it (consumers(loss.grad_fn) does).",
                    mistakes=(([1, 3], "h1 now has a second consumer: the addition that "
                                       "makes the loss."),
                              ([2, 6], "That counts paths from w to the loss; the engine counts "
                                       "the edges into a node, one per consumer."))),
    "7.3": Exercise("the parts of w.grad from time steps 1, 2 and 3 at w = 0.8, h0 = 1, "
                    "inputs [0.4, -0.2, 0.1], loss = h3",
                    [0.1301588, 0.4446737, 0.3585868],
                    "A hook on w only sees their sum. Give each time step a copy of w of its "
                    "own (three leaves with the same value): each copy's .grad is its part.",
                    mistakes=(([0.3585868, 0.4446737, 0.1301588],
                               "Those are in the order the parts arrive (the last time step "
                               "first): put time step 1 first."),)),
    "8.1": Exercise("x.grad after the exercise's loop, which drops x.grad in its second pass",
                    10.0,
                    "Follow x.grad through the loop pass by pass: what does each backward "
                    "add, and in which pass is the gradient dropped?",
                    mistakes=((15.0, "That adds up all three passes, but one of them starts "
                                     "by dropping x.grad."),
                              (5.0, "That is one pass's gradient; the reset runs in one pass "
                                    "only, and the passes after it accumulate again."))),
    "8.2": Exercise("the list grads of the fixed loop, one gradient per pass", None,
                    EXERCISE_8_2_HINT, judge=kept_each_pass_gradient),
    "9.1": Exercise("x itself, after the five steps of the exercise's loop, fixed to build its "
                    "graph again in every step", None,
                    "Put x in answer once all five steps of the loop run and its loss falls.",
                    judge=rebuilt_every_step),
    "9.2": Exercise("the node at which a second backward through y = x.exp() * x**2 fails",
                    "MulBackward0",
                    "A second backward starts where the first one did, at the output's node. "
                    "What does that node need to compute the gradients of its inputs?",
                    mistakes=(("ExpBackward0", NOT_REACHED), ("PowBackward0", NOT_REACHED))),
    "10.1": Exercise("the bytes the tensors saved by AddmmBackward0 take, for "
                     "torch.nn.Linear(5, 2) on a batch x = torch.randn(10, 5)", 200.0,
                     "Only what some gradient needs is saved: which tensor does the weight's "
                     "gradient need, and which does the input's? And x needs no gradient. "
                     "A float32 element takes 4 bytes.",
                     mistakes=((240.0, "That counts the weight too: it is saved only for the "
                                       "gradient of x, and x does not require grad."),
                               (40.0, "That is the weight alone: the weight's gradient is "
                                      "computed from the layer's input, so that is what is "
                                      "kept."),
                               (208.0, "The bias is not saved: its gradient is the incoming "
                                       "gradient summed over the batch, which needs no saved "
                                       "tensor."),
                               (50.0, "That counts elements: how many bytes does each float32 "
                                      "element take?"))),
    "10.2": Exercise("total_loss after exercise 10.2's loop, fixed so that it holds no graph",
                     None, LESSON_10_HINT, judge=sums_losses_without_graph),
    "11.1": Exercise("y itself, whose y.grad holds dz/dy for y = x * 2, z = y ** 2 at x = 3",
                    None, "Put y in answer once y.grad holds dz/dy.",
                    judge=kept_intermediate_grad),
    "11.2": Exercise("[y.grad, x.grad] after two passes of z = y ** 2, y = x * 2 at x = 3, "
                     "y retaining its gradient and x.grad = None between the passes",
                     [24.0, 24.0],
                     "Follow each .grad through the cell: what does each pass add, and which "
                     "of the two does x.grad = None reset?",
                     mistakes=(([12.0, 24.0], "x.grad was reset between the passes, but nothing "
                                              "reset y.grad: what does a second pass do to a "
                                              ".grad that is already there (lesson 8)?"),
                               ([24.0, 48.0], "x.grad = None dropped x's gradient of the first "
                                              "pass: only the second pass counts for x."),
                               ([12.0, 48.0], "x.grad = None acts on x.grad alone, and before "
                                              "the second pass: follow each .grad through the "
                                              "cell again."))),
    "12.1": Exercise("x itself, once the exercise's cell runs backward without the in-place "
                     "error and x.grad is the gradient of its intended loss", None,
                     "Which node saved the tensor that was changed in place? Leave that tensor "
                     "as it was.", judge=fixed_inplace_error),
    "12.2": Exercise("y._version at the end of the exercise's code", 3,
                     "Each in-place operation on y, on a view of y or on y.detach() adds 1 to "
                     "the one version counter they share; a new tensor starts at 0 with a "
                     "counter of its own.",
                     mistakes=((1, "Only y += 1 counted? A view (y[1:]) and y.detach() share "
                                   "y's memory and its version counter."),
                               (4, "c = y.clone() has memory and a version counter of its "
                                   "own: c.mul_(2) does not count for y."))),
    "12.3": Exercise("w itself, after the exercise's three gradient steps done in place", None,
                     "Update the leaf w in place where gradients are not recorded, as "
                     "optimizers do.", judge=stepped_leaf),
    "13.1": Exercise("x.grad for z = x * x.detach() at x = 3", 3.0,
                    "x.detach() has x's value but no graph: to backward it is a constant, and only "
                    "the other factor passes a gradient to x.",
                    mistakes=((6.0, "That would be the gradient of x * x: the detached "
                                    "factor is a constant and gets no gradient."),)),
    "13.2": Exercise("x.grad for z = y * x with y = x * 2 computed in no_grad, at x = 1", 2.0,
                    "y was computed inside torch.no_grad(): it holds a value but no graph, so to "
                    "z's backward it is a constant factor.",
                    mistakes=((4.0, "That would be the gradient if y were recorded as a function "
                                    "of x: y comes from no_grad(), so it is a constant."),)),
    "13.3": Exercise("total of the exercise's evaluation loop, holding no graph", None,
                     LESSON_13_HINT, judge=evaluated_without_graph),
    "14.1": Exercise("x.grad after dy_dx.backward(), dy_dx from autograd.grad(y, x, "
                     "create_graph=True), y = x**3 at x = 3", 18.0,
                     "Which call writes into x.grad, and the derivative of what does it write?",
                     mistakes=((27.0, "That is dy/dx itself: autograd.grad returned it in dy_dx "
                                      "and wrote nothing into x.grad. What does dy_dx.backward() "
                                      "add there?"),
                               (45.0, "autograd.grad returns its gradient and leaves x.grad "
                                      "alone: only dy_dx.backward() writes into x.grad."))),
    "14.2": Exercise("x itself, whose x.grad holds the gradient of f + (g**2).sum() in the "
                     "exercise, the penalty fixed", None,
                     "Put x in answer once the penalty changes x.grad.",
                     judge=penalty_reaches_x),
    "15.1": Exercise("backward passes reverse mode needs for the whole Jacobian of a function "
                     "from 5 inputs to 3 outputs", 3.0,
                     "One backward pass with a one-hot v gives the gradient of one output with "
                     "respect to every input: one row of the Jacobian.",
                     mistakes=((5.0, "That is forward mode's count, one pass per input. A "
                                     "backward pass gives one output's gradient with respect "
                                     "to all the inputs at once."),
                               (15.0, "A backward pass gives more than one entry of the "
                                      "Jacobian: a whole row."),
                               (1.0, "One pass gives one vector-Jacobian product v·J: the whole "
                                     "Jacobian only when there is a single output."))),
    "15.2": Exercise("row 1 of the Jacobian of y = (x0, x0 + x1, x0 + x1 + x2)**2 at "
                     "x = [1, 2, 3]", [6.0, 6.0, 0.0],
                     "Row i of the Jacobian is the gradient of y[i] alone: a backward pass "
                     "with v one-hot at position i (counting from 0, as y's elements).",
                     mistakes=(([0.0, 6.0, 12.0], "That is a column: how every output depends "
                                                  "on x[1]. A row is how one output, y[1], "
                                                  "depends on every input."),
                               ([20.0, 18.0, 12.0], "That is v·J with v all ones, the sum of "
                                                    "the rows: make v one-hot."),
                               ([2.0, 0.0, 0.0], "That is row 0, the gradient of y[0]: rows "
                                                 "count from 0, like y's elements."))),
    "15.3": Exercise("normalize, fixed so that gradcheck passes", None, LESSON_15_HINT,
                     judge=normalizes_with_its_gradient),
    "16.1": Exercise("[x.grad for x = 0.3, x.grad for x = 5.0, x.grad for x = 12.0] after "
                     "double_until_ten(x).backward()", [64.0, 2.0, 1.0],
                     "Count the multiplications each start records: the loop tests y < 10 "
                     "before each doubling, and each doubling multiplies the gradient by 2.",
                     mistakes=(([64.0, 2.0, 0.0], "For 12.0 the loop records nothing and y is "
                                                  "x itself: what is the derivative of x with "
                                                  "respect to x?"),)),
    "16.2": Exercise("the final h of the exercise's loop over chunks, fixed so that each "
                     "backward goes through its own chunk only", None,
                     "Put h in answer once every chunk's backward runs.",
                     judge=one_chunk_deep),
    "17.1": Exercise("the optimizer of the exercise's loop, with its bug fixed", None,
                     "Put the optimizer in answer once the loop's loss falls.",
                     judge=resets_every_step),
    "17.2": Exercise("the optimizer of the exercise's loop, with a learning rate that brings "
                     "the final loss below 0.01", None, LESSON_17_HINT,
                     judge=trains_below_001),
    "18.1": Exercise("[lines pack prints, lines unpack prints] for the exercise's code, "
                     "its hooks set around LegendrePolynomial3.apply(x) and y + x only",
                     [1, 1],
                     "pack runs once for each tensor saved inside the with block; unpack once "
                     "for each of those that backward reads. Which of the operations inside the "
                     "block save a tensor?",
                     mistakes=(([3, 3], "z * z saves z twice, but it runs after the with block: "
                                        "the hooks pack only what is saved inside it."),
                               ([2, 2], "Does y + x save anything? The gradient of a sum needs "
                                        "no value of its inputs."),
                               ([1, 0], "u.backward() runs LegendrePolynomial3Backward, whose "
                                        "backward reads ctx.saved_tensors: that unpacks."))),
    "18.2": Exercise("MulSquare, its backward fixed so that gradcheck passes", None,
                     LESSON_18_HINT, judge=differentiates_mul_square),
    "19.1": Exercise("forward-mode passes for the whole Jacobian of a function from 3 inputs to "
                     "100 outputs", 3.0,
                     "One forward pass with a one-hot direction u gives how every output changes "
                     "with one input: one column of the Jacobian.",
                     mistakes=((100.0, "That is reverse mode's count, one pass per output. A "
                                       "forward pass gives how all the outputs change with one "
                                       "input, at once."),
                               (300.0, "A forward pass gives more than one entry of the "
                                       "Jacobian: a whole column."),
                               (1.0, "One pass gives one Jacobian-vector product Ju: the whole "
                                     "Jacobian only when there is a single input."))),
    "19.2": Exercise("the tangent of h(x) = (x0 x1, x1 x2) at x = [1, 2, 3] along "
                     "u = [1, 1, -1]", [3.0, 1.0],
                     "The tangent is J u: for each output, add up its partial derivatives, each "
                     "times the matching entry of u.",
                     mistakes=(([3.0, 5.0], "That is J times (1, 1, 1): look at the sign of u's "
                                            "last entry."),
                               ([2.0, 0.0], "That is column 0 of J, the tangent for u = e0: this "
                                            "u moves all three inputs."))),
    "19.3": Exercise("jacobian_fwd, fixed so that it builds the Jacobian with one forward pass "
                     "per input", None, LESSON_19_HINT, judge=builds_jacobian_by_columns),
    "20.1": Exercise("[rows of C.grad that are not all zeros, lookups of C[X] that add into "
                     "C.grad[0]] after the backward of the batch of contexts of \"anna\"", [3, 6],
                     "IndexBackward0 adds each lookup's gradient into the row of C that the "
                     "lookup read: which rows do the contexts read, and how often is . among "
                     "them?",
                     mistakes=(([27, 6], "C.grad has 27 rows, but a row gets gradient only from "
                                         "the lookups that read it: which characters do the "
                                         "contexts hold?"),
                               ([12, 6], "That counts lookups, not rows: lookups of the same "
                                         "character add into the same row."),
                               ([3, 1], "Row 0 is read by more than one lookup, and each adds "
                                        "its own gradient into it: count the .s in X."))),
    "20.2": Exercise("P, the bigram table, its bug fixed so that each row sums to 1", None,
                     "Put P in answer once P.sum(1) prints ones.", judge=normalizes_rows),
    "20.3": Exercise("nll, fixed so that it computes F.cross_entropy by hand", None,
                     LESSON_20_HINT, judge=picks_one_probability_per_example),
}

# ---- lesson 21 ----------------------------------------------------------------------------------
from .judges import LESSON_21_HINT, convolves_back_in_full  # noqa: E402

EXERCISES.update({
    "21.1": Exercise("x.grad[0, 0] after F.max_pool2d(x, 2, stride=1).sum().backward() for the "
                     "exercise's x", [[0.0, 2.0, 0.0, 0.0], [1.0, 0.0, 3.0, 0.0],
                                      [0.0, 0.0, 2.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
                     "Go window by window: each of the nine 2×2 windows sends its gradient "
                     "(1, from .sum()) to the one pixel that holds its max. Add up what each "
                     "pixel receives.",
                     mistakes=(([[0.0, 1.5, 0.0, 0.0], [1.0, 0.0, 3.5, 0.0],
                                 [0.0, 0.0, 1.5, 0.5], [1.0, 0.0, 0.0, 0.0]],
                                "Two windows hold tied maxima: does a max pool split a "
                                "window's gradient among equal values, as amax does?"),
                               ([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 4.0, 0.0],
                                 [0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]],
                                "Right idea, but when the maxima of a window tie, which one "
                                "did the forward pick? Print the indices: "
                                "F.max_pool2d(x, 2, stride=1, return_indices=True)."),
                               ([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0],
                                 [0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
                                "That is a pool with stride 2, four windows side by side. "
                                "With stride 1 there are nine, and they overlap."),
                               ([[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0],
                                 [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]],
                                "That counts the windows that contain each pixel, as a "
                                "convolution with a kernel of ones would: a max pool's window "
                                "sends its gradient to one pixel only."))),
    "21.2": Exercise("input_grad_full, fixed so that it gives the input's gradient for kernels "
                     "of any shape", None, LESSON_21_HINT, judge=convolves_back_in_full),
    "21.3": Exercise("how many pixels of a 5×5 image get a zero gradient, whatever the loss and "
                     "kernel, from F.conv2d with a 2×2 kernel and stride 2", 9.0,
                     "With stride 2, where do the 2×2 windows start, and where is the last one "
                     "that still fits inside the image? A pixel in no window gets 0.",
                     mistakes=((5.0, "Is only one side of the image left out? Look at the "
                                     "rows and at the columns."),
                               (0.0, "Draw the windows: with stride 2 they start at columns "
                                     "0 and 2. Does one fit at column 4?"),
                               (16.0, "That is how many pixels do get a gradient: the question "
                                      "asks for the others."))),
})
