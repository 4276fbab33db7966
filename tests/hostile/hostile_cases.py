#!/usr/bin/python3
"""The bad-model suite: one table of hostile models and inputs, each run through
the real onnx-run binary.

Every row says how to build its files (a recipe, never a stored blob), the exit
code onnx-run must return and a regular expression its message must match.
Every run must also end normally (a signal, or an exit code >= 128, is a bug),
and an error message must name the model file (and the input or reference file a
row is about, when there is one).

  hostile_cases.py --list                        case names, one a line (CMake reads this)
  hostile_cases.py --run NAME --onnx-run BIN --workdir DIR
  hostile_cases.py --emit-seeds DIR [--max-bytes N]   every built .onnx, as fuzzing seeds
  hostile_cases.py --report --onnx-run BIN --workdir DIR [NAME...]
                                                 every case's exit code and full message, for reading

Rows with `requires` name the ops they need. A row whose op is not registered
(Gather, until it lands) reports SKIP (exit 77, CTest's SKIP_RETURN_CODE) and
runs with no change here once `onnx-run --list-ops` shows the op; the loss rows
were written that way and run now that the losses are on main.

The recipes live in recipes.py, the model-building helpers in builders.py.
"""
import os
import re
import shutil
import subprocess
import sys

import recipes as r
import recipes_limits as rl

SKIP = 77


# ----------------------------------------------------------------------------
# The table: name, recipe, expected exit code, message (regex), [verify, requires, names].
# Every error message must name the model (the first argument); `names`: another
# file it must name too (the input or reference file the row is about).

class Case:
    def __init__(self, name, recipe, code, msg, verify=None, requires=(), names=None, timeout=60):
        self.name, self.recipe, self.code, self.msg = name, recipe, code, msg
        self.verify, self.requires, self.names, self.timeout = verify, requires, names, timeout


INVALID, UNSUPPORTED, BAD_INPUT, LIMIT, USAGE = 3, 4, 5, 6, 2

CASES = [
    # The file itself.
    Case("empty_file", r.empty_file, INVALID, r"file is empty"),
    Case("truncated_model_many_offsets", r.truncated, INVALID,
         r"file is empty|not a valid ONNX model \(protobuf parse failed\): the file ends inside the field that starts at byte \d+ "
         r"\(the file has \d+ bytes\): it is truncated|no opset_import|missing ir_version|has no graph|no outputs"),
    Case("corrupted_protobuf", r.corrupted_protobuf, INVALID,
         r"not a valid ONNX model \(protobuf parse failed\): the field at byte 2 of 10 is not well-formed protobuf"),
    Case("png_image", r.png, INVALID, r"PNG image"),
    Case("zip_pytorch_checkpoint", r.zip_checkpoint, INVALID, r"ZIP archive.*torch\.onnx\.export"),
    Case("python_pickle", r.pickle, INVALID, r"pickle.*torch\.onnx\.export"),
    Case("tensorproto_as_model", r.tensorproto_as_model, INVALID, r"it is a TensorProto \(a tensor \.pb file"),
    Case("directory_as_model", r.directory, USAGE, r"is a directory"),
    Case("fifo_as_model", r.fifo, USAGE, r"fifo\.onnx: is a FIFO, not a regular file", timeout=20),
    Case("device_as_model", r.dev_zero, USAGE, r"/dev/zero: is a device, not a regular file", timeout=20),
    Case("missing_model_file", r.missing_file, USAGE, r"cannot open.*No such file"),
    # ModelProto header.
    Case("missing_ir_version", r.no_ir_version, INVALID, r"missing ir_version"),
    Case("no_opset_import", r.no_opset, INVALID, r"no opset_import"),
    Case("opset_import_twice", r.duplicate_opset, INVALID, r"lists domain 'ai\.onnx' twice"),
    Case("unsupported_opset_too_new", r.opset(99), UNSUPPORTED, r"opset 99 is not supported"),
    Case("unsupported_opset_zero", r.opset(0), UNSUPPORTED, r"opset 0 is not supported"),
    Case("opset_version_past_int", r.opset_wraps_int, UNSUPPORTED, r"domain 'ai\.onnx' version 4294967309 is not supported"),
    Case("unknown_domain", r.unknown_domain, UNSUPPORTED, r"domain 'com\.example' is not supported"),
    Case("domain_not_imported", r.domain_not_imported, UNSUPPORTED, r"domain 'com\.example' is not in opset_import"),
    Case("unknown_ops_listed_together", r.unknown_ops, UNSUPPORTED,
         r"2 node\(s\) cannot run:\s+FancyOp.*'first'.*unknown op\s+OtherOp.*'second'"),
    Case("op_not_defined_at_opset", r.op_before_opset, UNSUPPORTED, r"Gemm.*'old_gemm'.*not defined at opset 6"),
    # Graph structure.
    Case("undefined_node_input", r.undefined_input, INVALID, r"node 'add' \(Add\): input 'ghost' is not defined"),
    Case("cycle", r.cycle, INVALID, r"the graph has a cycle through node 'a' \(Add\)"),
    Case("self_loop", r.self_loop, INVALID, r"cycle through node 'self' \(Add\)"),
    Case("value_produced_twice", r.produced_twice, INVALID, r"node 'r2' \(Identity\): output 'Y' is already produced"),
    Case("node_overwrites_graph_input", r.output_overwrites_input, INVALID, r"output 'X' is already produced by a graph input"),
    Case("output_never_produced", r.output_never_produced, INVALID, r"graph output 'Z' is never produced"),
    Case("no_graph_outputs", r.no_outputs, INVALID, r"no outputs"),
    Case("duplicate_initializer", r.duplicate_initializer, INVALID, r"initializer 'W' is defined twice"),
    Case("too_many_inputs_for_op", r.relu_arity, INVALID, r"node 'act' \(Relu\): has 2 inputs, expected 1$"),
    Case("value_info_contradicts", r.value_info_contradicts, INVALID, r"node 'act' \(Relu\).*'H' is declared"),
    # Ifs nested three deep (the depth bomb below is the same recipe at 200) run.
    Case("subgraph_attribute", r.subgraph_attr, 0, r"^Z3: float\[1\] "),
    Case("if_missing_branch", r.if_missing_branch, INVALID, r"node 'choose' \(If\): missing graph attribute 'else_branch'"),
    Case("if_branch_output_count", r.if_branch_output_count, INVALID,
         r"node 'choose' \(If\): 'then_branch' has 1 outputs, the node 2"),
    Case("if_cond_float", r.if_cond_float, INVALID, r"node 'choose' \(If\): cond must be bool, got float"),
    Case("if_branch_undefined_name", r.if_branch_undefined_name, INVALID,
         r"node 'choose' \(If\) attribute 'then_branch': node .*: input 'nowhere' is not defined"),
    Case("loop_body_input_count", r.loop_body_input_count, INVALID,
         r"node 'repeat' \(Loop\) attribute 'body': the body has 2 inputs, expected 3"),
    Case("loop_body_cond_float", r.loop_body_cond_float, INVALID,
         r"node 'repeat' \(Loop\): the body's condition output must be bool, got float"),
    Case("loop_sequence_carried", r.loop_sequence_carried, UNSUPPORTED,
         r"node 'repeat' \(Loop\) attribute 'body': graph input 's': only tensor types are supported"),
    Case("loop_scan_memory_bomb", r.loop_scan_memory_bomb, LIMIT, r"node 'repeat' \(Loop\).*above --max-memory"),
    Case("deep_nesting", r.deep_nesting, INVALID,
         r"not a valid ONNX model \(protobuf parse failed\): its graphs nest 201 deep through subgraph attributes.*"
         r"past libprotobuf's limit of 100 nested messages"),
    # Tensors.
    Case("raw_data_size_mismatch", r.raw_data_size, INVALID, r"initializer 'W': raw_data has 7 bytes but float\[2\] needs 8"),
    Case("typed_field_count_mismatch", r.typed_count, INVALID, r"initializer 'W': has 3 values but float\[2\] needs 2"),
    Case("negative_dim_initializer", r.negative_dim_init, INVALID, r"initializer 'W': negative dimension -3"),
    Case("negative_dim_graph_input", r.negative_dim_input, INVALID, r"graph input 'X': negative dimension -3"),
    Case("dims_product_overflow", r.dims_overflow, INVALID, r"initializer 'W': shape .* too many elements"),
    Case("dims_overflow_after_zero", r.dims_overflow_after_zero, INVALID, r"initializer 'W': shape .* too many elements"),
    Case("huge_dims_typed_no_data", r.huge_dims_no_data, INVALID, r"initializer 'W': has 0 values but float\[1048576, 1048576\]"),
    Case("huge_dims_raw_no_data", r.huge_dims_raw_empty, INVALID, r"initializer 'W': raw_data has 0 bytes"),
    Case("huge_declared_input_dims", r.huge_input_decl, INVALID, r"graph input 'X': shape .* too many elements"),
    Case("huge_dims_after_zero_runtime", r.huge_reshape_runtime, LIMIT,
         r"node 'reshape' \(Reshape\): .*shape \[0, 1099511627776, 1099511627776\] has too many elements.*limit of 2\^40"),
    Case("reshape_to_absurd_zero_size_shape", r.huge_reshape_target, INVALID, r"node 'reshape' \(Reshape\): output 'R': shape .* too many elements"),
    Case("unsupported_dtype_initializer", r.unsupported_dtype_init, UNSUPPORTED, r"initializer 'W': dtype complex64 is not supported"),
    Case("invalid_dtype_initializer", r.invalid_dtype_init, INVALID, r"initializer 'W': undefined or invalid data_type 99"),
    Case("unsupported_dtype_input", r.string_input, UNSUPPORTED, r"graph input 'X': dtype string is not supported"),
    Case("sequence_input", r.sequence_input, UNSUPPORTED, r"graph input 'X': only tensor types"),
    Case("sparse_initializer", r.sparse_initializer, UNSUPPORTED, r"sparse initializers are not supported"),
    # External data.
    Case("external_data_dotdot", r.ext("../outside/secret.bin", setup=lambda d: r.make_weights(d, "outside/secret.bin")),
         INVALID, r"initializer 'W': external data location '\.\./outside/secret\.bin' contains '\.\.'"),
    Case("external_data_absolute", r.ext("/etc/passwd"), INVALID, r"'/etc/passwd' is an absolute path"),
    Case("external_data_symlink_out", r.ext("w.bin", 0, 16, setup=r.setup_symlink_out), INVALID, r"symbolic link"),
    Case("external_data_symlinked_folder", r.ext("sub/w.bin", 0, 16, setup=r.setup_symlink_dir), INVALID, r"symbolic link"),
    Case("external_data_symlink_inside", r.ext("w.bin", 0, 16, setup=r.setup_symlink_in), INVALID, r"symbolic link"),
    Case("external_data_hard_link", r.ext("w.bin", 0, 16, setup=r.setup_hardlink), INVALID, r"hard links"),
    Case("external_data_missing_file", r.ext("nope.bin"), INVALID, r"'nope\.bin' cannot be opened: No such file"),
    Case("external_data_past_end", r.ext("w.bin", 8, 16, setup=r.make_weights), INVALID,
         r"offset 8 \+ length 16 is past the end of 'w\.bin' \(16 bytes\)"),
    Case("external_data_offset_overflow", r.ext("w.bin", (1 << 63) - 1, 16, setup=r.make_weights), INVALID, r"past the end"),
    Case("external_data_bad_offset", r.ext("w.bin", "12abc", 16, setup=r.make_weights), INVALID, r"offset '12abc' is not a non-negative integer"),
    Case("external_data_length_mismatch", r.ext("w.bin", 0, 12, setup=r.make_weights), INVALID, r"length 12 does not match 16 bytes"),
    Case("external_data_fifo", r.ext("w.bin", 0, 16, setup=r.setup_ext_fifo), INVALID, r"not a regular file", timeout=20),
    Case("external_data_folder", r.ext("w.bin", 0, 16, setup=r.setup_ext_dir), INVALID, r"not a regular file"),
    Case("external_data_ok", r.ext_ok, 0, r"Y: float\[4\] 0 1 2 3"),
    # Attributes.
    Case("missing_required_attribute", r.constant_no_value, INVALID, r"node 'const' \(Constant\).*exactly one value attribute"),
    Case("attribute_wrong_type", r.attr_wrong_type, INVALID, r"node 'fc' \(Gemm\).*attribute 'alpha' must be of type float"),
    Case("attribute_unknown", r.attr_unknown, INVALID, r"node 'act' \(Relu\): unknown attribute 'slope'"),
    Case("attribute_twice", r.attr_twice, INVALID, r"node 'sm' \(Softmax\): attribute 'axis' is given twice"),
    # Shapes and op arguments.
    Case("gemm_inner_dims_static", r.gemm_inner_static, INVALID, r"node 'fc' \(Gemm\): inner dimensions differ"),
    Case("gemm_inner_dims_runtime", r.gemm_inner_runtime, BAD_INPUT, r"node 'fc' \(Gemm\): inner dimensions differ"),
    Case("gemm_bias_does_not_broadcast", r.gemm_bad_bias, BAD_INPUT, r"node 'fc' \(Gemm\): input 'C'.*does not broadcast"),
    Case("gemm_rank3", r.gemm_rank3, INVALID, r"node 'fc' \(Gemm\).*2-D"),
    Case("matmul_inner_dims", r.matmul_inner, INVALID, r"node 'mm' \(MatMul\): inner dimensions differ"),
    Case("matmul_batch_mismatch_runtime", r.matmul_batch_mismatch, BAD_INPUT, r"node 'mm' \(MatMul\).*cannot be broadcast"),
    Case("add_broadcast_mismatch", r.add_broadcast, INVALID, r"node 'add' \(Add\): shapes \[2, 3\] and \[4\]: dimensions 3 and 4 cannot be broadcast"),
    Case("add_mixed_dtypes", r.add_mixed_dtype, INVALID,
         r"node 'add' \(Add\): input 0 'A' is float but input 1 'B' is int64; Add requires them to have the same type \(T\)"),
    Case("concat_mixed_dtypes", r.concat_mixed_dtype, INVALID,
         r"node 'cat' \(Concat\): input 0 'A' is float but input 2 'C' is int64; Concat requires them to have the same type"),
    Case("where_mixed_dtypes", r.where_mixed_dtype, INVALID,
         r"node 'where' \(Where\): input 1 'X' is float but input 2 'Y' is int64; Where requires"),
    Case("mixed_dtypes_after_inference", r.mixed_dtype_inferred, INVALID,
         r"node 'mm' \(MatMul\): input 0 'C' is int64 but input 1 'W' is float"),
    Case("reshape_impossible_static", r.reshape_static, INVALID, r"node 'reshape' \(Reshape\).*cannot reshape"),
    Case("reshape_impossible_runtime", r.reshape_runtime, BAD_INPUT, r"node 'reshape' \(Reshape\).*cannot reshape"),
    Case("reshape_two_minus_one", r.reshape_two_minus_one, INVALID, r"node 'reshape' \(Reshape\): input 'shape' \[-1, -1\] has more than one -1"),
    Case("reshape_shape_not_int64", r.reshape_int32_shape, BAD_INPUT, r"node 'reshape' \(Reshape\).*input 'shape'.*int64"),
    Case("softmax_axis_out_of_range", r.softmax_axis, INVALID, r"node 'sm' \(Softmax\): axis 5 out of range for rank 2"),
    Case("flatten_axis_out_of_range", r.flatten_axis, INVALID,
         r"node 'flat' \(Flatten\): attribute 'axis' = 7 is out of range \[-2, 2\] for input float\[2, 3\] of rank 2"),
    # Limits.
    Case("max_memory_exceeded", r.max_memory, LIMIT, r"node 'act' \(Relu\): output 'H' \(float\[256, 256\], 262144 bytes\): .*above --max-memory 65536"),
    Case("too_many_nodes", r.too_many_nodes, LIMIT, r"1000001 nodes, above the limit of 1000000", timeout=300),
    Case("million_node_chain_runs", r.million_nodes, 0, r"t1000000: float\[1\]", timeout=600),
    # User inputs.
    Case("input_wrong_dtype", r.input_dtype, BAD_INPUT, r"m\.onnx: input 'X' \(from x\.npy\): expected float, got int64", names="x.npy"),
    Case("input_wrong_rank", r.input_rank, BAD_INPUT, r"m\.onnx: input 'X' \(from x\.npy\): expected rank 2 \(declared float\[2, 3\]\), got float\[6\]", names="x.npy"),
    Case("input_wrong_fixed_dim", r.input_fixed_dim, BAD_INPUT, r"m\.onnx: input 'X' \(from x\.npy\): dimension 1 must be 3 \(declared float\[2, 3\]\), got float\[2, 4\]", names="x.npy"),
    Case("input_missing", r.missing_input, BAD_INPUT, r"input 'B' has no declared shape"),
    Case("input_unknown_name", r.unknown_input, BAD_INPUT, r"unknown input name 'x' \(from x\.npy\) \(the model's inputs: X\)", names="x.npy"),
    Case("npy_bad_magic", r.npy_magic, BAD_INPUT, r"m\.onnx: input 'X': x\.npy: malformed \.npy: missing", names="x.npy"),
    Case("npy_truncated_many_offsets", r.npy_truncated, BAD_INPUT, r"malformed \.npy|file is empty", names=".npy"),
    Case("npy_header_length_past_end", r.npy_header_len, BAD_INPUT, r"header length past the end", names="x.npy"),
    Case("npy_negative_dim", r.npy_bad_shape, BAD_INPUT, r"bad dimension '-3'", names="x.npy"),
    Case("npy_huge_shape", r.npy_huge_shape, BAD_INPUT, r"x\.npy: malformed \.npy: .*too many elements", names="x.npy"),
    Case("npy_unsupported_dtype", r.npy_dtype, BAD_INPUT, r"unsupported dtype '<U8'", names="x.npy"),
    Case("npy_fortran_order", r.npy_fortran, BAD_INPUT, r"fortran_order", names="x.npy"),
    Case("npy_decoy_fortran_order", rl.npy_decoy_fortran_order, BAD_INPUT, r"x\.npy: malformed \.npy: unexpected key 'x'",
         names="x.npy"),
    Case("npy_decoy_descr", rl.npy_decoy_descr, BAD_INPUT, r"x\.npy: malformed \.npy: unexpected key 'x'", names="x.npy"),
    Case("npy_unterminated_or_extra_key", rl.npy_unterminated_or_extra, BAD_INPUT,
         r"x\.npy: malformed \.npy: (the header ends before the dict's closing '}' \(unterminated\)|unexpected key 'extra')",
         names="x.npy"),
    Case("pb_garbage", r.pb_garbage, BAD_INPUT, r"m\.onnx: input 'X': x\.pb: not a valid TensorProto", names="x.pb"),
    Case("pb_raw_data_mismatch", r.pb_raw_mismatch, BAD_INPUT, r"x\.pb: raw_data has 10 bytes", names="x.pb"),
    Case("pb_huge_dims_no_data", r.pb_huge_dims, BAD_INPUT, r"x\.pb: shape .* too many elements", names="x.pb"),
    Case("pb_external_data_refused", r.pb_external, BAD_INPUT, r"x\.pb: external data \('x\.bin'\) is not allowed", names="x.pb"),
    Case("input_file_fifo", r.input_fifo, BAD_INPUT, r"x\.pb: is a FIFO", names="x.pb", timeout=20),
    Case("check_reference_malformed", r.check_bad_reference, BAD_INPUT, r"m/model\.onnx: reference output: m/test_data_set_0/output_0\.pb: not a valid TensorProto", names="output_0.pb"),
    # Sizes and indices from fed data: a size past a limit is exit 6 naming the
    # limit; a fed value invalid in itself is exit 5; extreme indices that are
    # valid give the right answer (and no signed overflow under UBSan).
    Case("expand_fed_shape_past_limit", rl.expand_past_limit, LIMIT,
         r"node 'expand' \(Expand\): .*shape \[\d+, \d+\] has too many elements.*limit of 2\^40 elements per tensor"),
    Case("expand_fed_negative_dim", rl.expand_negative_dim, BAD_INPUT, r"node 'expand' \(Expand\): input 'shape': dim -2 at index 0 is negative"),
    Case("constant_of_shape_fed_past_limit", rl.constant_of_shape_past_limit, LIMIT,
         r"node 'cos' \(ConstantOfShape\): .*has too many elements.*limit of 2\^40"),
    Case("range_fed_past_limit", rl.range_past_limit, LIMIT, r"node 'range' \(Range\): .*elements, above the limit of 2\^40"),
    Case("one_hot_fed_depth_past_limit", rl.one_hot_depth_past_limit, LIMIT,
         r"node 'onehot' \(OneHot\): .*has too many elements.*limit of 2\^40"),
    Case("one_hot_fed_depth_nan", rl.one_hot_depth_not_a_number, BAD_INPUT, r"node 'onehot' \(OneHot\): input 'depth' is NaN"),
    Case("one_hot_fed_depth_not_positive", rl.one_hot_depth_not_positive, BAD_INPUT,
         r"node 'onehot' \(OneHot\): input 'depth': (0|-3|-inf) is not positive"),
    Case("broadcast_fed_past_limit", rl.broadcast_past_limit, LIMIT, r"node 'add' \(Add\): .*has too many elements.*limit of 2\^40"),
    Case("concat_fed_past_limit", rl.concat_past_limit, LIMIT, r"node 'cat' \(Concat\): .*has too many elements.*limit of 2\^40"),
    Case("gather_fed_past_limit", rl.gather_past_limit, LIMIT, r"node 'gather' \(Gather\): .*has too many elements.*limit of 2\^40"),
    Case("slice_fed_extreme_steps", rl.slice_extreme_steps, 0, r"Y: float\[1, (3|1)\]", verify=rl.verify_slice_extreme_steps),
    Case("split_fed_sizes_overflow", rl.split_sizes_overflow, BAD_INPUT,
         r"node 'split' \(Split\): input 'split'( sums to more than the axis size 4|: negative size -1)"),
    # Names: every name at most 64 KiB, refused at load naming the field.
    Case("names_past_limit", rl.names_past_limit, INVALID,
         r"m_\w+\.onnx: (graph input 0: its name|initializer 0: its name|graph output 0: its name|node 1: its name|"
         r"node 0: output 0 names a value that|node 2 attribute 'then_branch': graph output 0: its name) "
         r"is 65537 bytes, above the limit of 65536 bytes per name \(it starts 'nnnn"),
    Case("op_type_past_limit", rl.op_type_past_limit, INVALID, r"node 0: its op_type is 1048576 bytes, above the limit of 65536"),
    Case("names_of_60_kib_run", rl.names_of_60_kib_run, 0, r": float\[2\]"),
    # Good data through the same doors: must run.
    Case("nan_inf_propagate", r.nan_inf, 0, r"R: float\[2, 4\]", verify=r.verify_nan_inf),
    Case("zero_batch_runs_empty", r.zero_batch, 0, r"Y: float\[0, 2\]", verify=r.verify_zero_batch),
    Case("zero_size_softmax_axis", r.zero_size_softmax_axis, 0, r"S: float\[0, 1, 5\]", verify=r.verify_zero_size_softmax_axis),
    Case("zero_size_reduction", r.zero_size_inner, 0, r"Y: float\[2, 3\]", verify=r.verify_zero_size_inner),
    # Recurrent ops.
    Case("lstm_huge_hidden_size", r.lstm_huge_hidden_size, INVALID,
         r"node 'lstm' \(LSTM\): initializer W float\[1, 8, 2\] does not fit LSTM with 1 direction\(s\) and hidden size 1099511627776", requires=("LSTM",)),
    Case("lstm_hidden_size_mismatch", r.lstm_hidden_size_mismatch, INVALID,
         r"node 'lstm' \(LSTM\): initializer W float\[1, 8, 2\] does not fit LSTM with 1 direction\(s\) and hidden size 3: "
         r"expected \[1, 12, 2\]", requires=("LSTM",)),
    Case("lstm_sequence_lens_past_the_sequence", r.lstm_sequence_lens_past_the_sequence, BAD_INPUT,
         r"node 'lstm' \(LSTM\): input 'sequence_lens': element 1 is 4, outside \[0, 3\]", requires=("LSTM",)),
    Case("lstm_unknown_activation", r.lstm_unknown_activation, UNSUPPORTED,
         r"node 'lstm' \(LSTM\).*activation 'Swish' is not supported", requires=("LSTM",)),
    # Rows for ops that land later (SKIP until registered).
    Case("gather_index_out_of_range", r.gather_index, BAD_INPUT, r"node 'gather' \(Gather\): input 'indices': index 3 at position 1 is out of range \[-3, 3\)",
         requires=("Gather",)),
    Case("gather_negative_index_out_of_range", r.gather_negative_index, BAD_INPUT,
         r"node 'gather' \(Gather\): input 'indices': index -4 at position 0 is out of range \[-3, 3\)", requires=("Gather",)),
    Case("labels_out_of_range", r.labels_out_of_range, BAD_INPUT, r"node 'loss' \(SoftmaxCrossEntropyLoss\).*label 3",
         requires=("SoftmaxCrossEntropyLoss",)),
    Case("nll_negative_label", r.nll_negative_label, BAD_INPUT,
         r"node 'nll' \(NegativeLogLikelihoodLoss\).*label -1", requires=("NegativeLogLikelihoodLoss",)),
    Case("labels_all_ignored_mean_is_nan", r.labels_all_ignored, 0, r"Y: float\[\]", verify=r.verify_labels_all_ignored,
         requires=("SoftmaxCrossEntropyLoss",)),
]


# ----------------------------------------------------------------------------
# Running.

def registered_ops(binary):
    out = subprocess.run([binary, "--list-ops"], capture_output=True, text=True, timeout=60).stdout
    return {line.split("\t")[1] for line in out.splitlines() if line.count("\t") >= 2}


def run_case(case, binary, workdir):
    if case.requires:
        missing = [op for op in case.requires if op not in registered_ops(binary)]
        if missing:
            print("SKIP %s: needs %s, not registered yet" % (case.name, ", ".join(missing)))
            return SKIP
    if os.path.isdir(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    runs = case.recipe(workdir)
    failures = []
    for args in runs:
        try:
            p = subprocess.run([binary] + args, cwd=workdir, capture_output=True, text=True, errors="replace",
                               timeout=case.timeout)
        except subprocess.TimeoutExpired:
            failures.append("%s: did not finish in %ds" % (" ".join(args), case.timeout))
            continue
        label = "onnx-run " + " ".join(args)
        out = p.stdout + p.stderr
        if p.returncode < 0 or p.returncode >= 128:
            failures.append("%s: ended by a signal or crash (exit %d)\n%s" % (label, p.returncode, p.stderr[-3000:]))
            continue
        if p.returncode != case.code:
            failures.append("%s: exit %d, expected %d\n%s" % (label, p.returncode, case.code, out[-3000:]))
            continue
        text = p.stderr if case.code else out
        if not re.search(case.msg, text, re.S):
            failures.append("%s: message does not match /%s/:\n%s" % (label, case.msg, text[-3000:]))
            continue
        if case.code:
            # Every error names the model it is about (usage errors about the
            # model path too), and the row's other file (an input, a reference)
            # when it has one.
            missing = [f for f in (args[0], case.names) if f and f not in p.stderr]
            if missing:
                failures.append("%s: the message does not name the file '%s':\n%s" % (label, missing[0], p.stderr))
                continue
            if "\n" in p.stderr.strip() and not p.stderr.strip().startswith("onnx-run: error:"):
                failures.append("%s: unexpected extra output on stderr:\n%s" % (label, p.stderr))
                continue
    if not failures and case.verify:
        try:
            case.verify(workdir)
        except AssertionError as e:
            failures.append("verify: %s" % e)
    if failures:
        print("FAIL %s (%d of %d runs)" % (case.name, len(failures), len(runs)))
        for f in failures[:10]:
            print("  " + f)
        return 1
    print("PASS %s (%d run%s): exit %d" % (case.name, len(runs), "" if len(runs) == 1 else "s", case.code))
    last = p.stderr.strip() if case.code else ""
    if last:
        print("  message: " + last)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(binary, workdir, names):
    """Prints case -> exit code -> message for every run (a multi-run case prints
    each distinct message once), so the messages can be read side by side."""
    ops = registered_ops(binary)
    for case in CASES:
        if names and case.name not in names:
            continue
        if not names and case.timeout > 60:
            continue  # the million-node rows: ask for them by name
        if any(op not in ops for op in case.requires):
            print("%s -> SKIP (needs %s)" % (case.name, ", ".join(case.requires)))
            continue
        d = os.path.join(workdir, case.name)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        seen = set()
        for args in case.recipe(d):
            try:
                p = subprocess.run([binary] + args, cwd=d, capture_output=True, text=True, errors="replace",
                                   timeout=case.timeout)
            except subprocess.TimeoutExpired:
                print("%s -> TIMEOUT: onnx-run %s" % (case.name, " ".join(args)))
                continue
            msg = p.stderr.strip() if p.returncode else p.stdout.strip().splitlines()[0:1]
            key = (p.returncode, re.sub(r"\d+", "#", str(msg)))
            if key in seen:
                continue
            seen.add(key)
            print("%s -> exit %d (want %d) -> %s" % (case.name, p.returncode, case.code, msg))
        shutil.rmtree(d, ignore_errors=True)
    return 0


def emit_seeds(out_dir, max_bytes):
    """Writes every model the recipes build (small enough) into out_dir."""
    import tempfile
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    for case in CASES:
        if case.timeout > 60:
            continue  # the million-node models: far too big for a fuzzing seed
        with tempfile.TemporaryDirectory() as d:
            runs = case.recipe(d)
            seen = set()
            for args in runs[:8]:
                if "--max-memory" in args:
                    # The case relies on its own small --max-memory (a Loop stacking
                    # 2^40 scan values); the fuzz harness runs every input under its
                    # own fixed limits instead.
                    continue
                path = os.path.join(d, args[0])
                if path in seen or not os.path.isfile(path) or os.path.islink(path):
                    continue
                seen.add(path)
                if os.path.getsize(path) > max_bytes or not os.path.getsize(path):
                    continue
                shutil.copyfile(path, os.path.join(out_dir, "hostile_%s_%d.onnx" % (case.name, len(seen))))
                count += 1
    print("emitted %d seeds into %s" % (count, out_dir))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--run")
    ap.add_argument("--onnx-run")
    ap.add_argument("--workdir")
    ap.add_argument("--emit-seeds")
    ap.add_argument("--max-bytes", type=int, default=1 << 16)
    ap.add_argument("--report", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args(argv)
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if a.list:
        print("\n".join(names))
        return 0
    if a.report:
        return report(os.path.abspath(a.onnx_run), os.path.abspath(a.workdir), set(a.names))
    if a.emit_seeds:
        emit_seeds(a.emit_seeds, a.max_bytes)
        return 0
    if a.run:
        case = next((c for c in CASES if c.name == a.run), None)
        if case is None:
            print("no case named %r" % a.run)
            return 2
        return run_case(case, os.path.abspath(a.onnx_run), os.path.abspath(a.workdir))
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
