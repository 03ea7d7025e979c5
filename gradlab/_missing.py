"""A PyTorch name gradlab lacks: an AttributeError that says so (getattr's default and hasattr
still work), for the modules that stand for torch's namespaces and for tensors."""


def missing_names(module_name):
    """The module ``__getattr__`` of ``gradlab.x``, which stands for ``torch.x``."""
    torch_name = "torch" + module_name[len("gradlab"):]

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):  # Python's probes, not PyTorch's names
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        raise AttributeError(f"gradlab does not implement {torch_name}.{name}")
    return __getattr__


class Lacking:
    """A class attribute for a PyTorch name gradlab lacks: reading it (from the class or an
    instance) raises an AttributeError that says so, as the modules' __getattr__ does (a class
    __getattr__ would cost every tensor attribute read its fast path)."""
    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path

    def __get__(self, obj, cls=None):
        raise AttributeError(f"gradlab does not implement {self.path}")


# PyTorch 2.13's public torch.Tensor names that gradlab.Tensor lacks (tests/test_missing_names.py
# keeps the list equal to the difference): asking a tensor for one says so
TENSOR_NAMES = frozenset("""
    H acosh acosh_ addmm_ adjoint aminmax angle apply_ arccosh arccosh_ arcsinh arcsinh_ arctanh
    arctanh_ argwhere as_strided as_strided_ as_strided_scatter as_subclass asinh asinh_ atanh
    atanh_ bfloat16 bitwise_and_ bitwise_left_shift bitwise_left_shift_ bitwise_not_ bitwise_or_
    bitwise_right_shift bitwise_right_shift_ bitwise_xor_ ccol_indices cdouble cfloat chalf
    cholesky cholesky_inverse cholesky_solve coalesce col_indices conj conj_physical
    conj_physical_ const_data_ptr copysign copysign_ corrcoef cov crow_indices data_ptr deg2rad
    deg2rad_ dense_dim dequantize diagflat diagonal_scatter digamma digamma_ dim_order dist
    dsplit eig eq_ erfinv erfinv_ fill_diagonal_ float_power float_power_ floor_divide_ fmax
    fmin frexp gcd gcd_ ge_ geqrf ger get_device grad_dtype greater_ greater_equal_ gt_
    hardshrink hash_tensor heaviside heaviside_ hsplit i0 i0_ igamma igamma_ igammac igammac_
    imag index index_reduce index_reduce_ indices inner int_repr inverse ipu is_coalesced
    is_conj is_distributed is_ipu is_maia is_meta is_mkldnn is_mps is_mtia is_neg is_nested
    is_nonzero is_pinned is_quantized is_same_size is_set_to is_shared is_sparse_csr is_vulkan
    is_xla is_xpu isreal istft layout lcm lcm_ ldexp ldexp_ le_ less_ less_equal_ lgamma lgamma_
    logaddexp2 logcumsumexp logdet logical_and_ logical_not_ logical_or_ logical_xor_ lstsq lt_
    lu lu_solve mH map2_ map_ masked_scatter_ matrix_exp matrix_power module_load mtia mvlgamma
    mvlgamma_ name nanmedian nanquantile narrow_copy ne_ new new_empty_strided nextafter
    nextafter_ nonzero_static not_equal not_equal_ orgqr ormqr pin_memory pinverse polygamma
    polygamma_ prelu put put_ q_per_channel_axis q_per_channel_scales q_per_channel_zero_points
    q_scale q_zero_point qr qscheme quantile rad2deg rad2deg_ real record_stream reinforce
    renorm renorm_ resize resize_ resize_as resize_as_ resize_as_sparse_ resolve_conj
    resolve_neg rot90 row_indices scatter_reduce scatter_reduce_ select_scatter set_
    share_memory_ sinc sinc_ slice_inverse slice_scatter smm solve sparse_dim sparse_mask
    sparse_resize_ sparse_resize_and_clear_ split_with_sizes squeeze_ sspaddmm stft storage
    storage_offset storage_type stride sum_to_size svd swapaxes_ swapdims_ symeig t_
    tensor_split to_dense to_mkldnn to_padded_tensor to_sparse to_sparse_bsc to_sparse_bsr
    to_sparse_coo to_sparse_csc to_sparse_csr transpose_ triangular_solve unfold
    unique_consecutive unsafe_chunk unsafe_split unsafe_split_with_sizes unsqueeze_
    untyped_storage values vdot volatile vsplit xlogy xlogy_ xpu
""".split())
