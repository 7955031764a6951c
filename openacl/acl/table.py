"""The pyACL call table: every call of ``../shared/spec/pyacl-api.md`` §1-§5, one per line.

This table is the single source of the facade's shape. ``openacl.acl.build`` turns each
line into a positional-only Python function; ``python -m openacl.coverage`` measures how
many of them have an implementation.

Line format::

    module.name   CODE:arg CODE:arg | CODE:optional_arg   -> returns

Argument codes follow CPython's ``PyArg_ParseTuple`` (what pyACL's C wrapper uses):

    i  int32, range-checked (OverflowError)     I  uint32, masked (-1 -> 0xFFFFFFFF)
    L  int64, range-checked                     K  uint64, masked (pointers, handles, sizes)
    H  uint16, masked                           b  uint8, 0..255 (OverflowError)
    h  int16, range-checked (OverflowError)     B  uint8, masked
    f, d  float, double (an int is accepted)    s  str
    O  any object                               list / dict  exactly that type

Returns: ``ret`` (status only); ``(t1, t2, ..., ret)`` (values then status); or a bare
value ``int``, ``int=-1`` (failure answer -1), ``str`` (failure ""), ``str?`` (failure None),
``handle`` (failure 0), ``float``, ``bytes``, ``obj``, ``None``. Tuple element types give
the failure value placed before the code: int 0, float 0.0, dict {}, dict? None,
list [], list? None, str "", handle 0, obj None.
"""

MODULE_DOCS = {
    "acl": "pyACL, implemented by openacl.",
    "rt": "pyACL runtime: devices, contexts, streams, memory, events, callbacks.",
    "mdl": "pyACL models: load, describe, datasets, execute, dynamic shapes, AIPP.",
    "util": "pyACL helpers: pointers, bytes, numpy, threads.",
    "prof": "pyACL profiling: sessions, model subscription with per-operator records, stamps.",
    "media": "pyACL media (DVPP): DVPP memory, JPEG/PNG decode, JPEG encode, VPC resize/crop/"
             "paste, video decode/encode channels.",
}

TABLE = r"""
# --- acl: lifecycle, version, logging (spec 1) ---
acl.init                        | s:config_path                                   -> ret
acl.finalize                    *                                                 -> ret
acl.finalize_reference          *                                                 -> (int, ret)
acl.get_version                 *                                                 -> (int, int, int, ret)
acl.get_soc_name                *                                                 -> str?
acl.get_recent_err_msg          *                                                 -> str?
acl.app_log                     i:level s:msg                                     -> None
acl.get_version_str             s:pkg_name                                        -> (str, ret)
acl.get_cann_version            I:pkg                                             -> (dict, ret)
acl.get_cann_attribute_list     *                                                 -> (list, int, ret)
acl.get_cann_attribute          i:attr                                            -> (int, ret)
acl.get_device_capability       I:device_id i:info                                -> (int, ret)
acl.float16_to_float            H:value                                           -> float
acl.float_to_float16            f:value                                           -> int
# --- acl: data buffers and tensor descriptors (spec 4) ---
acl.create_data_buffer          K:data_ptr K:size                                 -> handle
acl.destroy_data_buffer         K:data_buffer                                     -> ret
acl.get_data_buffer_addr        K:data_buffer                                     -> int
acl.get_data_buffer_size        K:data_buffer                                     -> int
acl.get_data_buffer_size_v2     K:data_buffer                                     -> int
acl.update_data_buffer          K:data_buffer K:data_ptr K:size                   -> ret
acl.data_type_size              i:data_type                                       -> int
acl.create_tensor_desc          i:data_type ints:dims i:format                    -> handle
acl.destroy_tensor_desc         K:tensor_desc                                     -> None
acl.get_tensor_desc_type        K:tensor_desc                                     -> int=-1
acl.get_tensor_desc_format      K:tensor_desc                                     -> int=-1
acl.get_tensor_desc_num_dims    K:tensor_desc                                     -> int
acl.get_tensor_desc_dim         K:tensor_desc K:index                             -> int=-1
acl.get_tensor_desc_dim_v2      K:tensor_desc K:index                             -> (int, ret)
acl.get_tensor_desc_dim_range   K:tensor_desc K:index K:dim_range_num             -> (list?, ret)
acl.get_tensor_desc_element_count K:tensor_desc                                   -> int
acl.get_tensor_desc_size        K:tensor_desc                                     -> int
acl.get_tensor_desc_name        K:tensor_desc                                     -> str
acl.set_tensor_desc_name        K:tensor_desc s:name                              -> None
acl.set_tensor_shape            K:tensor_desc ints:dims                           -> ret
acl.set_tensor_origin_shape     K:tensor_desc ints:dims                           -> ret
acl.set_tensor_storage_shape    K:tensor_desc ints:dims                           -> ret
acl.set_tensor_format           K:tensor_desc i:format                            -> ret
acl.set_tensor_origin_format    K:tensor_desc i:format                            -> ret
acl.set_tensor_storage_format   K:tensor_desc i:format                            -> ret
acl.set_tensor_shape_range      K:tensor_desc list:dims_range                     -> ret
acl.set_tensor_value_range      K:tensor_desc list:value_range                    -> ret
acl.set_tensor_const            K:tensor_desc K:data_ptr K:size                   -> ret
acl.set_tensor_place_ment       K:tensor_desc i:mem_type                          -> ret
acl.set_tensor_dynamic_input    K:tensor_desc s:dynamic_input_name                -> ret
acl.trans_tensor_desc_format    K:tensor_desc i:format                            -> (handle, ret)
acl.get_tensor_desc_address     K:tensor_desc                                     -> int
acl.get_tensor_desc_by_index    K:tensor_desc K:index                             -> handle
# --- acl.rt: devices (spec 2.1) ---
rt.set_device                   i:device_id                                       -> ret
rt.reset_device                 i:device_id                                       -> ret
rt.reset_device_force           i:device_id                                       -> ret
rt.get_device                   *                                                 -> (int, ret)
rt.get_device_count             *                                                 -> (int, ret)
rt.get_run_mode                 *                                                 -> (int, ret)
rt.synchronize_device           *                                                 -> ret
rt.synchronize_device_with_timeout i:timeout                                      -> ret
rt.set_ts_device                i:ts_id                                           -> ret
rt.get_device_info              I:device_id I:attr                                -> (int, ret)
rt.get_device_utilization_rate  i:device_id                                       -> (dict, ret)
rt.query_device_status          i:device_id                                       -> (int, ret)
rt.device_can_access_peer       i:device_id i:peer_device_id                      -> (int, ret)
rt.device_enable_peer_access    i:peer_device_id I:flags                          -> ret
rt.device_disable_peer_access   i:peer_device_id                                  -> ret
rt.set_device_sat_mode          i:mode                                            -> ret
rt.get_device_sat_mode          *                                                 -> (int, ret)
# --- acl.rt: contexts (spec 2.2) ---
rt.create_context               i:device_id                                       -> (handle, ret)
rt.destroy_context              K:context                                         -> ret
rt.set_context                  K:context                                         -> ret
rt.get_context                  *                                                 -> (handle, ret)
rt.ctx_get_current_default_stream *                                                 -> (handle, ret)
rt.ctx_set_sys_param_opt        i:opt l:value                                     -> ret
rt.ctx_get_sys_param_opt        i:opt                                             -> (int, ret)
rt.set_sys_param_opt            i:opt l:value                                     -> ret
rt.get_sys_param_opt            i:opt                                             -> (int, ret)
rt.get_primary_ctx_state        i:device_id                                       -> (int, int, ret)
# --- acl.rt: streams (spec 2.3) ---
rt.create_stream                *                                                 -> (handle, ret)
rt.create_stream_with_config    i:priority i:flag                                 -> (handle, ret)
rt.destroy_stream               K:stream                                          -> ret
rt.destroy_stream_force         K:stream                                          -> ret
rt.synchronize_stream           K:stream                                          -> ret
rt.synchronize_stream_with_timeout K:stream i:timeout                             -> ret
rt.stream_query                 K:stream                                          -> (int, ret)
rt.stream_wait_event            K:stream K:event                                  -> ret
rt.stream_abort                 K:stream                                          -> ret
rt.stream_get_id                K:stream                                          -> (int, ret)
rt.get_stream_available_num     *                                                 -> (int, ret)
rt.set_stream_failure_mode      K:stream I:mode                                   -> ret
rt.set_stream_overflow_switch   K:stream I:flag                                   -> ret
rt.get_stream_overflow_switch   K:stream                                          -> (int, ret)
rt.set_stream_attribute         K:stream i:attr dict:value                        -> ret
rt.get_stream_attribute         K:stream i:attr                                   -> (dict, ret)
# --- acl.rt: memory (spec 2.4) ---
rt.malloc                       K:size i:policy                                   -> (int, ret)
rt.malloc_align32               K:size i:policy                                   -> (int, ret)
rt.malloc_cached                K:size i:policy                                   -> (int, ret)
rt.mem_flush                    K:dev_ptr K:size                                  -> ret
rt.mem_invalidate               K:dev_ptr K:size                                  -> ret
rt.free                         K:dev_ptr                                         -> ret
rt.malloc_host                  K:size                                            -> (int, ret)
rt.free_host                    K:host_ptr                                        -> ret
rt.malloc_with_cfg              K:size i:policy dict:cfg                          -> (int, ret)
rt.malloc_host_with_cfg         K:size dict:cfg                                   -> (int, ret)
rt.memcpy2d                     K:dst K:dpitch K:src K:spitch K:width K:height i:kind -> ret
rt.memcpy2d_async               K:dst K:dpitch K:src K:spitch K:width K:height i:kind K:stream -> ret
rt.reserve_mem_address          K:size K:alignment K:expect_ptr K:flags           -> (int, ret)
rt.release_mem_address          K:virtual_ptr                                     -> ret
rt.malloc_physical              K:size dict:prop K:flags                          -> (handle, ret)
rt.free_physical                K:handle                                          -> ret
rt.pointer_get_attributes       K:ptr                                             -> (dict, ret)
rt.memset                       K:dev_ptr K:max_count i:value K:count             -> ret
rt.memset_async                 K:dev_ptr K:max_count i:value K:count K:stream    -> ret
rt.memcpy                       K:dst K:dest_max K:src K:count i:kind             -> ret
rt.memcpy_async                 K:dst K:dest_max K:src K:count i:kind K:stream    -> ret
rt.get_mem_info                 i:attr                                            -> (int, int, ret)
rt.get_overflow_status          K:out_addr K:out_size K:stream                    -> ret
rt.reset_overflow_status        K:stream                                          -> ret
# --- acl.rt: events (spec 2.5) ---
rt.create_event                 *                                                 -> (handle, ret)
rt.create_event_with_flag       I:flag                                            -> (handle, ret)
rt.create_event_ex_with_flag    I:flag                                            -> (handle, ret)
rt.destroy_event                K:event                                           -> ret
rt.record_event                 K:event K:stream                                  -> ret
rt.reset_event                  K:event K:stream                                  -> ret
rt.synchronize_event            K:event                                           -> ret
rt.synchronize_event_with_timeout K:event i:timeout                               -> ret
rt.query_event_status           K:event                                           -> (int, ret)
rt.query_event                  K:event                                           -> (int, ret)
rt.query_event_wait_status      K:event                                           -> (int, ret)
rt.event_elapsed_time           K:start K:end                                     -> (float, ret)
rt.event_get_timestamp          K:event                                           -> (int, ret)
rt.get_event_id                 K:event                                           -> (int, ret)
rt.get_event_avail_num          *                                                 -> (int, ret)
# --- acl.rt: host callbacks, report threads, diagnostics (spec 2.6) ---
rt.subscribe_report             K:thread_id K:stream                              -> ret
rt.unsubscribe_report           K:thread_id K:stream                              -> ret
rt.launch_callback              callable:fn O:user_data i:block_type K:stream     -> ret
rt.process_report               i:timeout                                         -> ret
rt.set_exception_info_callback  | callable?:fn                                    -> ret
rt.get_error_code_from_exception_info  K:info                                     -> int
rt.get_task_id_from_exception_info     K:info                                     -> int
rt.get_stream_id_from_exception_info   K:info                                     -> int
rt.get_thread_id_from_exception_info   K:info                                     -> int
rt.get_device_id_from_exception_info   K:info                                     -> int
rt.get_thread_last_task_id      *                                                 -> (int, ret)
rt.peek_at_last_error           i:level                                           -> ret
rt.get_last_error               i:level                                           -> ret
rt.set_op_wait_timeout          I:timeout                                         -> ret
rt.set_op_execute_time_out      I:timeout                                         -> ret
# --- acl.rt: calls openacl parses but does not implement (notify, IPC, kernels, limits) ---
rt.reduce_async                  K:dst K:src K:count i:kind i:data_type K:stream K:reserve -> ret
rt.cmo_async                     K:src K:size i:cmo_type K:stream                  -> ret
rt.set_op_execute_timeout_v2     K:timeout                                         -> (int, ret)
rt.get_op_timeout_interval       *                                                 -> (int, ret)
rt.get_op_execute_timeout        *                                                 -> (int, ret)
rt.device_task_abort             i:device_id I:timeout                             -> ret
rt.device_get_stream_priority_range *                                                 -> (int, int, ret)
rt.get_device_capability         i:device_id I:feature_type                        -> (int, ret)
rt.get_device_res_limit          i:device_id I:type                                -> (int, ret)
rt.set_device_res_limit          i:device_id I:type I:value                        -> ret
rt.reset_device_res_limit        i:device_id                                       -> ret
rt.get_devices_topo              I:device_id I:other_device_id                     -> (int, ret)
rt.get_logic_dev_id_by_user_dev_id i:user_dev_id                                     -> (int, ret)
rt.get_user_dev_id_by_logic_dev_id i:logic_dev_id                                    -> (int, ret)
rt.get_logic_dev_id_by_phy_dev_id i:phy_dev_id                                      -> (int, ret)
rt.get_phy_dev_id_by_logic_dev_id i:logic_dev_id                                    -> (int, ret)
rt.device_get_uuid               i:device_id                                       -> (dict, ret)
rt.device_peer_access_status     i:device_id i:peer_device_id                      -> (int, ret)
rt.get_stream_res_limit          K:stream i:type                                   -> (int, ret)
rt.set_stream_res_limit          K:stream i:type I:value                           -> ret
rt.reset_stream_res_limit        K:stream                                          -> ret
rt.use_stream_res_in_current_thread K:stream                                          -> ret
rt.unuse_stream_res_in_current_thread K:stream                                          -> ret
rt.get_res_in_current_thread     i:type                                            -> (int, ret)
rt.malloc_for_task_scheduler     K:size i:policy dict:cfg                          -> (int, ret)
rt.map_mem                       K:virtual_ptr K:size K:offset K:handle K:flags    -> ret
rt.unmap_mem                     K:virtual_ptr                                     -> ret
rt.mem_export_to_shareable_handle K:handle i:handle_type K:flags                    -> (int, ret)
rt.device_get_bare_tgid          *                                                 -> (int, ret)
rt.mem_set_pid_to_shareable_handle K:shareable_handle vlist:pids                     -> ret
rt.mem_import_from_shareable_handle K:shareable_handle i:device_id                    -> (int, ret)
rt.mem_get_allocation_granularity dict:prop i:option                                -> (int, ret)
rt.memcpy_async_with_condition   K:dst K:dest_max K:src K:count i:kind K:stream    -> ret
rt.host_register                 K:ptr K:size i:type                               -> (int, ret)
rt.host_unregister               K:ptr                                             -> ret
rt.get_memcpy_desc_size          i:kind                                            -> (int, ret)
rt.set_memcpy_desc               K:desc i:kind K:src K:dst K:count K:config        -> (int, ret)
rt.memcpy_async_with_desc        K:desc i:kind K:stream                            -> ret
rt.ipc_mem_get_export_key        K:dev_ptr K:size K:key_len K:flag                 -> (str?, ret)
rt.ipc_mem_set_import_pid        s:key vlist:pids                                  -> ret
rt.ipc_mem_import_by_key         s:key K:flag                                      -> (int, ret)
rt.ipc_mem_close                 s:key                                             -> ret
rt.value_write                   K:dev_addr K:value I:flag K:stream                -> ret
rt.value_wait                    K:dev_addr K:value I:flag K:stream                -> ret
rt.host_register_v2              K:ptr K:size I:flag                               -> ret
rt.host_get_device_pointer       K:host_ptr I:flag                                 -> (int, ret)
rt.create_notify                 K:flag                                            -> (int, ret)
rt.destroy_notify                K:notify                                          -> ret
rt.record_notify                 K:notify K:stream                                 -> ret
rt.wait_and_reset_notify         K:notify K:stream L:timeout                       -> ret
rt.get_notify_id                 K:notify                                          -> (int, ret)
rt.notify_batch_reset            vlist:notifies                                    -> ret
rt.notify_get_export_key         K:notify K:key_len K:flag                         -> (str?, ret)
rt.notify_set_import_pid         K:notify vlist:pids                               -> ret
rt.notify_import_by_key          s:key K:flag                                      -> (int, ret)
rt.allocator_create_desc         *                                                 -> handle
rt.allocator_destroy_desc        K:desc                                            -> ret
rt.allocator_set_obj_to_desc     K:desc K:allocator                                -> ret
rt.allocator_set_alloc_func_to_desc K:desc O:fn                                       -> ret
rt.allocator_set_free_func_to_desc K:desc O:fn                                       -> ret
rt.allocator_set_alloc_advise_func_to_desc K:desc O:fn                                       -> ret
rt.allocator_set_get_addr_from_block_func_to_desc K:desc O:fn                                       -> ret
rt.allocator_register            K:stream K:desc                                   -> ret
rt.allocator_unregister          K:stream                                          -> ret
rt.binary_load_from_file         s:bin_path vlist:options                          -> (int, ret)
rt.binary_load_from_data         K:data K:length vlist:options                     -> (int, ret)
rt.get_function_addr             K:func_handle                                     -> (int, int, ret)
rt.get_function_name             K:func_handle I:max_len                           -> (str?, ret)
rt.register_cpu_func             K:bin_handle s:func_name s:kernel_name            -> (int, ret)
rt.create_binary                 K:data K:data_len                                 -> handle
rt.destroy_binary                K:binary                                          -> ret
rt.binary_load                   K:binary                                          -> (int, ret)
rt.binary_unload                 K:bin_handle                                      -> ret
rt.binary_get_function           K:bin_handle s:kernel_name                        -> (int, ret)
rt.launch_kernel                 K:func_handle I:block_dim K:args_data K:args_size K:stream -> ret
rt.kernel_args_init              K:func_handle                                     -> (int, ret)
rt.kernel_args_init_by_user_mem  K:func_handle K:args_handle K:user_host_mem K:actual_args_size -> ret
rt.kernel_args_get_mem_size      K:func_handle K:user_args_size                    -> (int, ret)
rt.kernel_args_get_handle_mem_size K:func_handle                                     -> (int, ret)
rt.kernel_args_append            K:args_handle K:param K:param_size                -> (int, ret)
rt.kernel_args_append_place_holder K:args_handle                                     -> (int, ret)
rt.kernel_args_get_place_holder_buffer K:args_handle K:param_handle K:data_size          -> (int, ret)
rt.kernel_args_para_update       K:args_handle K:param_handle K:param K:param_size -> ret
rt.kernel_args_finalize          K:args_handle                                     -> ret
rt.launch_kernel_with_config     K:func_handle I:block_dim K:stream vlist:cfg K:args_handle K:reserve -> ret
# --- acl.util (spec 3) ---
util.bytes_to_ptr               bytes:data                                        -> int
util.ptr_to_bytes               K:ptr K:size                                      -> bytes
util.numpy_to_ptr               ndarray:array                                     -> int
util.numpy_contiguous_to_ptr    ndarray:array                                     -> obj
util.ptr_to_numpy               K:ptr shape:shape i:npy_type                      -> obj
util.start_thread               callable:fn O:args                                -> (int, ret)
util.stop_thread                K:thread_id                                       -> int
# --- acl.mdl: load / unload (spec 5.1) ---
mdl.load_from_file              s:model_path                                      -> (int, ret)
mdl.load_from_mem               K:model_ptr K:model_size                          -> (int, ret)
mdl.load_from_file_with_mem     s:model_path K:work_ptr K:work_size K:weight_ptr K:weight_size -> (int, ret)
mdl.load_from_mem_with_mem      K:model_ptr K:model_size K:work_ptr K:work_size K:weight_ptr K:weight_size -> (int, ret)
mdl.query_size                  s:model_path                                      -> (int, int, ret)
mdl.query_size_from_mem         K:model_ptr K:model_size                          -> (int, int, ret)
mdl.create_config_handle        *                                                 -> handle
mdl.destroy_config_handle       K:config_handle                                   -> ret
mdl.set_config_opt              K:config_handle i:attr O:value                    -> ret
mdl.load_with_config            K:config_handle                                   -> (int, ret)
mdl.unload                      I:model_id                                        -> ret
mdl.bundle_load_from_file       s:model_path                                      -> (int, ret)
mdl.bundle_load_from_mem        K:model_ptr K:model_size                          -> (int, ret)
mdl.bundle_get_model_num        I:bundle_id                                       -> (int, ret)
mdl.bundle_get_model_id         I:bundle_id K:index                               -> (int, ret)
mdl.bundle_unload               I:bundle_id                                       -> ret
# --- acl.mdl: model description (spec 5.2) ---
mdl.create_desc                 *                                                 -> handle
mdl.destroy_desc                K:model_desc                                      -> ret
mdl.get_desc                    K:model_desc I:model_id                           -> ret
mdl.get_desc_from_file          K:model_desc s:model_path                         -> ret
mdl.get_desc_from_mem           K:model_desc K:model_ptr K:model_size             -> ret
mdl.get_num_inputs              K:model_desc                                      -> int
mdl.get_num_outputs             K:model_desc                                      -> int
mdl.get_input_size_by_index     K:model_desc K:index                              -> int
mdl.get_output_size_by_index    K:model_desc K:index                              -> int
mdl.get_input_dims              K:model_desc K:index                              -> (dict, ret)
mdl.get_input_dims_v2           K:model_desc K:index                              -> (dict, ret)
mdl.get_output_dims             K:model_desc K:index                              -> (dict, ret)
mdl.get_cur_output_dims         K:model_desc K:index                              -> (dict, ret)
mdl.get_input_dims_range        K:model_desc K:index                              -> (dict, ret)
mdl.get_input_name_by_index     K:model_desc K:index                              -> str
mdl.get_output_name_by_index    K:model_desc K:index                              -> str
mdl.get_input_index_by_name     K:model_desc s:name                               -> (int, ret)
mdl.get_output_index_by_name    K:model_desc s:name                               -> (int, ret)
mdl.get_input_format            K:model_desc K:index                              -> int=-1
mdl.get_output_format           K:model_desc K:index                              -> int=-1
mdl.get_input_data_type         K:model_desc K:index                              -> int=-1
mdl.get_output_data_type        K:model_desc K:index                              -> int=-1
mdl.get_tensor_real_name        K:model_desc s:name                               -> str?
mdl.get_dynamic_batch           K:model_desc                                      -> (dict, ret)
mdl.get_dynamic_hw              K:model_desc K:index                              -> (dict, ret)
mdl.get_input_dynamic_gear_count K:model_desc K:index                             -> (int, ret)
mdl.get_input_dynamic_dims      K:model_desc K:index K:gear_count                 -> (list?, ret)
mdl.get_op_attr                 K:model_desc s:op_name s:attr                     -> str?
# --- acl.mdl: datasets (spec 5.3) ---
mdl.create_dataset              *                                                 -> handle
mdl.destroy_dataset             K:dataset                                         -> ret
mdl.add_dataset_buffer          K:dataset K:data_buffer                           -> (handle, ret)
mdl.get_dataset_num_buffers     K:dataset                                         -> int
mdl.get_dataset_buffer          K:dataset K:index                                 -> handle
mdl.set_dataset_tensor_desc     K:dataset K:tensor_desc K:index                   -> (handle, ret)
mdl.get_dataset_tensor_desc     K:dataset K:index                                 -> handle
# --- acl.mdl: execution (spec 5.4) ---
mdl.execute                     I:model_id K:input K:output                       -> ret
mdl.execute_async               I:model_id K:input K:output K:stream              -> ret
mdl.create_exec_config_handle   *                                                 -> handle
mdl.destroy_exec_config_handle  K:config_handle                                   -> ret
mdl.set_exec_config_opt         K:config_handle K:attr I:value                    -> ret
mdl.execute_v2                  I:model_id K:input K:output K:stream K:config_handle -> ret
# --- acl.mdl: dynamic batch / image size / dims (spec 5.5) ---
mdl.set_dynamic_batch_size      I:model_id K:dataset K:index K:batch_size         -> ret
mdl.set_dynamic_hw_size         I:model_id K:dataset K:index K:height K:width     -> ret
mdl.set_input_dynamic_dims      I:model_id K:dataset K:index dict:dims            -> ret
# --- acl.mdl: AIPP (spec 5.6) ---
mdl.get_aipp_type               I:model_id K:index                                -> (int, int, ret)
mdl.get_first_aipp_info         I:model_id K:index                                -> (dict?, ret)
mdl.get_aipp_data_size          K:batch_size                                      -> (int, ret)
mdl.create_aipp                 K:batch_size                                      -> handle
mdl.destroy_aipp                K:aipp                                            -> ret
mdl.set_aipp_input_format       K:aipp I:input_format                             -> ret
mdl.set_aipp_csc_params         K:aipp b:csc_switch h:r0c0 h:r0c1 h:r0c2 h:r1c0 h:r1c1 h:r1c2 h:r2c0 h:r2c1 h:r2c2 B:out_bias0 B:out_bias1 B:out_bias2 B:in_bias0 B:in_bias1 B:in_bias2 -> ret
mdl.set_aipp_rbuv_swap_switch   K:aipp b:switch                                   -> ret
mdl.set_aipp_ax_swap_switch     K:aipp b:switch                                   -> ret
mdl.set_aipp_src_image_size     K:aipp i:width i:height                           -> ret
mdl.set_aipp_crop_params        K:aipp b:switch i:start_w i:start_h i:crop_w i:crop_h K:batch_index -> ret
mdl.set_aipp_padding_params     K:aipp b:switch i:top i:bottom i:left i:right K:batch_index -> ret
mdl.set_aipp_dtc_pixel_mean     K:aipp h:mean0 h:mean1 h:mean2 h:mean3 K:batch_index -> ret
mdl.set_aipp_dtc_pixel_min      K:aipp f:min0 f:min1 f:min2 f:min3 K:batch_index  -> ret
mdl.set_aipp_pixel_var_reci     K:aipp f:var0 f:var1 f:var2 f:var3 K:batch_index  -> ret
mdl.set_aipp_scf_params         K:aipp b:switch i:in_w i:in_h i:out_w i:out_h K:batch_index -> ret
mdl.set_input_aipp              I:model_id K:dataset K:index K:aipp               -> ret
mdl.set_aipp_by_input_index     I:model_id K:dataset K:index K:aipp               -> ret
# --- acl.mdl: dump and misc (spec 5.7) ---
mdl.init_dump                   *                                                 -> ret
mdl.finalize_dump               *                                                 -> ret
mdl.set_dump                    | s:config_path                                   -> ret
mdl.dump_reg_callback           O:fn i:flag                                       -> ret
mdl.dump_unreg_callback         *                                                 -> None
mdl.create_and_get_op_desc      I:device_id I:stream_id I:task_id K:op_name_len   -> (str, handle, int, handle, int, ret)
mdl.load_from_file_with_q       s:model_path K:input_q_ptr K:input_q_num K:output_q_ptr K:output_q_num -> (int, ret)
mdl.load_from_mem_with_q        K:model_ptr K:model_size K:input_q_ptr K:input_q_num K:output_q_ptr K:output_q_num -> (int, ret)
# --- media: DVPP memory, descriptions, JPEG/PNG, VPC, VDEC/VENC (dvpp-api.md §2-§12) ---
media.dvpp_malloc                                  k:size                                                                 -> (int, ret)
media.dvpp_malloc_with_cfg                         k:size i:policy dict:cfg                                               -> (int, ret)
media.dvpp_free                                    k:dev_ptr                                                              -> ret
media.dvpp_create_channel                          k:channel_desc                                                         -> ret
media.dvpp_destroy_channel                         k:channel_desc                                                         -> ret
media.dvpp_create_channel_desc                     *                                                                      -> handle
media.dvpp_destroy_channel_desc                    k:channel_desc                                                         -> ret
media.dvpp_get_channel_desc_channel_id             k:channel_desc                                                         -> int
media.dvpp_set_channel_desc_mode                   k:channel_desc I:mode                                                  -> ret
media.dvpp_create_pic_desc                         *                                                                      -> handle
media.dvpp_destroy_pic_desc                        k:pic_desc                                                             -> ret
media.dvpp_set_pic_desc_data                       k:pic_desc k:data                                                      -> ret
media.dvpp_set_pic_desc_size                       k:pic_desc I:size                                                      -> ret
media.dvpp_set_pic_desc_format                     k:pic_desc i:format                                                    -> ret
media.dvpp_set_pic_desc_width                      k:pic_desc I:width                                                     -> ret
media.dvpp_set_pic_desc_height                     k:pic_desc I:height                                                    -> ret
media.dvpp_set_pic_desc_width_stride               k:pic_desc I:width_stride                                              -> ret
media.dvpp_set_pic_desc_height_stride              k:pic_desc I:height_stride                                             -> ret
media.dvpp_set_pic_desc_ret_code                   k:pic_desc I:ret_code                                                  -> ret
media.dvpp_get_pic_desc_data                       k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_size                       k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_format                     k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_width                      k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_height                     k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_width_stride               k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_height_stride              k:pic_desc                                                             -> int
media.dvpp_get_pic_desc_ret_code                   k:pic_desc                                                             -> int
media.dvpp_create_stream_desc                      *                                                                      -> handle
media.dvpp_destroy_stream_desc                     k:stream_desc                                                          -> ret
media.dvpp_set_stream_desc_data                    k:stream_desc k:data                                                   -> ret
media.dvpp_set_stream_desc_size                    k:stream_desc I:size                                                   -> ret
media.dvpp_set_stream_desc_format                  k:stream_desc i:format                                                 -> ret
media.dvpp_set_stream_desc_timestamp               k:stream_desc K:timestamp                                              -> ret
media.dvpp_set_stream_desc_ret_code                k:stream_desc I:ret_code                                               -> ret
media.dvpp_set_stream_desc_eos                     k:stream_desc B:eos                                                    -> ret
media.dvpp_get_stream_desc_data                    k:stream_desc                                                          -> int
media.dvpp_get_stream_desc_size                    k:stream_desc                                                          -> int
media.dvpp_get_stream_desc_format                  k:stream_desc                                                          -> int
media.dvpp_get_stream_desc_timestamp               k:stream_desc                                                          -> int
media.dvpp_get_stream_desc_ret_code                k:stream_desc                                                          -> int
media.dvpp_get_stream_desc_eos                     k:stream_desc                                                          -> int
media.dvpp_create_batch_pic_desc                   I:batch_size                                                           -> handle
media.dvpp_destroy_batch_pic_desc                  k:batch_pic_desc                                                       -> ret
media.dvpp_get_pic_desc                            k:batch_pic_desc I:index                                               -> handle
media.dvpp_create_hist                             *                                                                      -> handle
media.dvpp_destroy_hist                            k:hist                                                                 -> ret
media.dvpp_get_hist_dims                           k:hist                                                                 -> int
media.dvpp_get_hist_data                           k:hist I:dim                                                           -> (int, int, ret)
media.dvpp_get_hist_ret_code                       k:hist                                                                 -> int
media.dvpp_clear_hist                              k:hist                                                                 -> ret
media.dvpp_create_lut_map                          *                                                                      -> handle
media.dvpp_destroy_lut_map                         k:lut_map                                                              -> ret
media.dvpp_get_lut_map_dims                        k:lut_map                                                              -> int
media.dvpp_get_lut_map_data                        k:lut_map I:dim                                                        -> (int, int, ret)
media.dvpp_create_border_config                    *                                                                      -> handle
media.dvpp_destroy_border_config                   k:border_config                                                        -> ret
media.dvpp_get_border_config_value                 k:border_config I:index                                                -> float
media.dvpp_get_border_config_border_type           k:border_config                                                        -> int
media.dvpp_get_border_config_top                   k:border_config                                                        -> int
media.dvpp_get_border_config_bottom                k:border_config                                                        -> int
media.dvpp_get_border_config_left                  k:border_config                                                        -> int
media.dvpp_get_border_config_right                 k:border_config                                                        -> int
media.dvpp_set_border_config_value                 k:border_config I:index d:value                                        -> ret
media.dvpp_set_border_config_border_type           k:border_config i:border_type                                          -> ret
media.dvpp_set_border_config_bottom                k:border_config I:bottom                                               -> ret
media.dvpp_set_border_config_top                   k:border_config I:top                                                  -> ret
media.dvpp_set_border_config_left                  k:border_config I:left                                                 -> ret
media.dvpp_set_border_config_right                 k:border_config I:right                                                -> ret
media.dvpp_png_decode_async                        k:channel_desc k:data I:size k:output_desc k:stream                    -> ret
media.dvpp_png_get_image_info                      k:data I:size                                                          -> (int, int, int, ret)
media.dvpp_png_predict_dec_size                    k:data I:size i:output_pixel_format                                    -> (int, ret)
media.dvpp_set_channel_desc_param                  k:channel_desc i:param_type k:param                                    -> (int, ret)
media.dvpp_get_channel_desc_param                  k:channel_desc i:param_type                                            -> (int, int, ret)
media.dvpp_vpc_resize_async                        k:channel_desc k:input_desc k:output_desc k:resize_config k:stream     -> ret
media.dvpp_vpc_crop_async                          k:channel_desc k:input_desc k:output_desc k:crop_area k:stream         -> ret
media.dvpp_vpc_batch_crop_async                    k:channel_desc k:src_batch_desc list:roi_nums k:dst_batch_desc list:crop_areas k:stream -> (int, ret)
media.dvpp_vpc_crop_and_paste_async                k:channel_desc k:input_desc k:output_desc k:crop_area k:paste_area k:stream -> ret
media.dvpp_vpc_batch_crop_and_paste_async          k:channel_desc k:src_batch_desc list:roi_nums k:dst_batch_desc list:crop_areas list:paste_areas k:stream -> (int, ret)
media.dvpp_vpc_convert_color_async                 k:channel_desc k:input_desc k:output_desc k:stream                     -> ret
media.dvpp_vpc_pyr_down_async                      k:channel_desc k:input_desc k:output_desc k:reserve k:stream           -> ret
media.dvpp_vpc_equalize_hist_async                 k:channel_desc k:input_desc k:output_desc k:lut_map k:stream           -> ret
media.dvpp_vpc_make_border_async                   k:channel_desc k:input_desc k:output_desc k:border_config k:stream     -> ret
media.dvpp_vpc_calc_hist_async                     k:channel_desc k:src_desc k:hist k:reserve k:stream                    -> ret
media.dvpp_create_roi_config                       I:left I:right I:top I:bottom                                          -> handle
media.dvpp_destroy_roi_config                      k:roi_config                                                           -> ret
media.dvpp_set_roi_config                          k:roi_config I:left I:right I:top I:bottom                             -> ret
media.dvpp_set_roi_config_left                     k:roi_config I:left                                                    -> ret
media.dvpp_set_roi_config_right                    k:roi_config I:right                                                   -> ret
media.dvpp_set_roi_config_top                      k:roi_config I:top                                                     -> ret
media.dvpp_set_roi_config_bottom                   k:roi_config I:bottom                                                  -> ret
media.dvpp_create_resize_config                    *                                                                      -> handle
media.dvpp_destroy_resize_config                   k:resize_config                                                        -> ret
media.dvpp_set_resize_config_interpolation         k:resize_config I:interpolation                                        -> ret
media.dvpp_get_resize_config_interpolation         k:resize_config                                                        -> int
media.dvpp_vpc_crop_resize_async                   k:channel_desc k:input_desc k:output_desc k:crop_area k:resize_config k:stream -> ret
media.dvpp_vpc_batch_crop_resize_async             k:channel_desc k:src_batch_desc list:roi_nums k:dst_batch_desc list:crop_areas k:resize_config k:stream -> ret
media.dvpp_vpc_crop_resize_paste_async             k:channel_desc k:input_desc k:output_desc k:crop_area k:paste_area k:resize_config k:stream -> ret
media.dvpp_vpc_batch_crop_resize_paste_async       k:channel_desc k:src_batch_desc list:roi_nums k:dst_batch_desc list:crop_areas list:paste_areas k:resize_config k:stream -> ret
media.dvpp_vpc_batch_crop_resize_make_border_async k:channel_desc k:src_batch_desc list:roi_nums k:dst_batch_desc list:crop_areas list:border_configs k:resize_config k:stream -> ret
media.dvpp_jpeg_decode_async                       k:channel_desc k:data I:size k:output_desc k:stream                    -> ret
media.dvpp_jpeg_get_image_info                     k:data I:size                                                          -> (int, int, int, ret)
media.dvpp_jpeg_get_image_info_v2                  k:data I:size                                                          -> (int, int, int, int, ret)
media.dvpp_jpeg_predict_dec_size                   k:data I:size i:output_pixel_format                                    -> (int, ret)
media.dvpp_jpeg_encode_async                       k:channel_desc k:input_desc k:data k:size_ptr k:config k:stream        -> ret
media.dvpp_jpeg_predict_enc_size                   k:input_desc k:config                                                  -> (int, ret)
media.dvpp_create_jpege_config                     *                                                                      -> handle
media.dvpp_destroy_jpege_config                    k:jpege_config                                                         -> ret
media.dvpp_set_jpege_config_level                  k:jpege_config I:level                                                 -> ret
media.dvpp_get_jpege_config_level                  k:jpege_config                                                         -> int
media.vdec_create_channel                          k:channel_desc                                                         -> ret
media.vdec_destroy_channel                         k:channel_desc                                                         -> ret
media.vdec_create_channel_desc                     *                                                                      -> handle
media.vdec_destroy_channel_desc                    k:channel_desc                                                         -> ret
media.vdec_set_channel_desc_channel_id             k:channel_desc I:channel_id                                            -> ret
media.vdec_set_channel_desc_thread_id              k:channel_desc K:thread_id                                             -> ret
media.vdec_set_channel_desc_callback               k:channel_desc callable:fn                                             -> ret
media.vdec_set_channel_desc_entype                 k:channel_desc i:en_type                                               -> ret
media.vdec_set_channel_desc_out_pic_format         k:channel_desc i:out_pic_format                                        -> ret
media.vdec_set_channel_desc_out_pic_width          k:channel_desc I:width                                                 -> ret
media.vdec_set_channel_desc_out_pic_height         k:channel_desc I:height                                                -> ret
media.vdec_set_channel_desc_ref_frame_num          k:channel_desc I:ref_frame_num                                         -> ret
media.vdec_get_channel_desc_channel_id             k:channel_desc                                                         -> int
media.vdec_get_channel_desc_thread_id              k:channel_desc                                                         -> int
media.vdec_get_channel_desc_callback               k:channel_desc                                                         -> obj
media.vdec_get_channel_desc_entype                 k:channel_desc                                                         -> int
media.vdec_get_channel_desc_out_pic_format         k:channel_desc                                                         -> int
media.vdec_get_channel_desc_out_pic_width          k:channel_desc                                                         -> int
media.vdec_get_channel_desc_out_pic_height         k:channel_desc                                                         -> int
media.vdec_get_channel_desc_ref_frame_num          k:channel_desc                                                         -> int
media.vdec_send_frame                              k:channel_desc k:input k:output k:config O:user_data                   -> ret
media.vdec_send_skipped_frame                      k:channel_desc k:input k:config O:user_data                            -> ret
media.vdec_create_frame_config                     *                                                                      -> handle
media.vdec_destroy_frame_config                    k:frame_config                                                         -> ret
media.vdec_get_channel_desc_out_mode               k:channel_desc                                                         -> int
media.vdec_set_channel_desc_out_mode               k:channel_desc I:out_mode                                              -> ret
media.vdec_get_channel_desc_bit_depth              k:channel_desc                                                         -> int
media.vdec_set_channel_desc_bit_depth              k:channel_desc I:bit_depth                                             -> ret
media.vdec_set_channel_desc_param                  k:channel_desc i:param_type k:param                                    -> (int, ret)
media.vdec_get_channel_desc_param                  k:channel_desc i:param_type                                            -> (int, int, ret)
media.venc_create_channel                          k:channel_desc                                                         -> ret
media.venc_destroy_channel                         k:channel_desc                                                         -> ret
media.venc_send_frame                              k:channel_desc k:input k:reserve k:config O:user_data                  -> ret
media.venc_create_channel_desc                     *                                                                      -> handle
media.venc_destroy_channel_desc                    k:channel_desc                                                         -> ret
media.venc_set_channel_desc_thread_id              k:channel_desc K:thread_id                                             -> ret
media.venc_set_channel_desc_callback               k:channel_desc callable:fn                                             -> ret
media.venc_set_channel_desc_entype                 k:channel_desc i:en_type                                               -> ret
media.venc_set_channel_desc_pic_format             k:channel_desc i:pic_format                                            -> ret
media.venc_set_channel_desc_pic_width              k:channel_desc I:width                                                 -> ret
media.venc_set_channel_desc_pic_height             k:channel_desc I:height                                                -> ret
media.venc_set_channel_desc_key_frame_interval     k:channel_desc I:key_frame_interval                                    -> ret
media.venc_get_channel_desc_channel_id             k:channel_desc                                                         -> int
media.venc_get_channel_desc_thread_id              k:channel_desc                                                         -> int
media.venc_get_channel_desc_callback               k:channel_desc                                                         -> obj
media.venc_get_channel_desc_entype                 k:channel_desc                                                         -> int
media.venc_get_channel_desc_pic_format             k:channel_desc                                                         -> int
media.venc_get_channel_desc_pic_width              k:channel_desc                                                         -> int
media.venc_get_channel_desc_pic_height             k:channel_desc                                                         -> int
media.venc_get_channel_desc_key_frame_interval     k:channel_desc                                                         -> int
media.venc_create_frame_config                     *                                                                      -> handle
media.venc_destroy_frame_config                    k:frame_config                                                         -> ret
media.venc_set_frame_config_force_i_frame          k:frame_config B:force_i_frame                                         -> ret
media.venc_set_frame_config_eos                    k:frame_config B:eos                                                   -> ret
media.venc_get_frame_config_force_i_frame          k:frame_config                                                         -> int
media.venc_get_frame_config_eos                    k:frame_config                                                         -> int
media.venc_get_channel_desc_buf_addr               k:channel_desc                                                         -> int
media.venc_set_channel_desc_buf_addr               k:channel_desc k:buf_addr                                              -> ret
media.venc_get_channel_desc_buf_size               k:channel_desc                                                         -> int
media.venc_set_channel_desc_buf_size               k:channel_desc I:buf_size                                              -> ret
media.venc_get_channel_desc_max_bit_rate           k:channel_desc                                                         -> int
media.venc_set_channel_desc_max_bit_rate           k:channel_desc I:max_bit_rate                                          -> ret
media.venc_get_channel_desc_rc_mode                k:channel_desc                                                         -> int
media.venc_set_channel_desc_rc_mode                k:channel_desc I:rc_mode                                               -> ret
media.venc_get_channel_desc_src_rate               k:channel_desc                                                         -> int
media.venc_set_channel_desc_src_rate               k:channel_desc I:src_rate                                              -> ret
media.venc_get_channel_desc_param                  k:channel_desc i:param_type                                            -> (int, ret)
media.venc_set_channel_desc_param                  k:channel_desc i:param_type O:param                                    -> ret
# --- prof: profiling (binding prof/pyprof_methods.cpp; openacl.profiling) ---
prof.create_config              list:device_ids i:aicore_metrics k:aicore_events K:data_type_config -> handle
prof.destroy_config             k:config                                          -> ret
prof.init                       s:result_path                                     -> ret
prof.finalize                   *                                                 -> ret
prof.start                      k:config                                          -> ret
prof.stop                       k:config                                          -> ret
prof.model_subscribe            I:model_id k:subscribe_config                     -> ret
prof.model_un_subscribe         I:model_id                                        -> ret
prof.model_unsubscribe          I:model_id                                        -> ret
prof.create_subscribe_config    b:time_info_switch i:aicore_metrics i:fd          -> handle
prof.destroy_subscribe_config   k:subscribe_config                                -> ret
prof.get_op_desc_size           *                                                 -> (int, ret)
prof.get_op_num                 k:op_info k:op_info_len                           -> (int, ret)
prof.get_op_type                k:op_info k:op_info_len I:index k:op_type_len     -> (str, ret)
prof.get_op_name                k:op_info k:op_info_len I:index k:op_name_len     -> (str, ret)
prof.get_op_type_v2             k:op_info k:op_info_len I:index                   -> (str?, ret)
prof.get_op_name_v2             k:op_info k:op_info_len I:index                   -> (str?, ret)
prof.get_op_start               k:op_info k:op_info_len I:index                   -> int
prof.get_op_end                 k:op_info k:op_info_len I:index                   -> int
prof.get_op_duration            k:op_info k:op_info_len I:index                   -> int
prof.get_model_id               k:op_info k:op_info_len I:index                   -> int
prof.get_op_type_len            k:op_info k:op_info_len I:index                   -> (int, ret)
prof.get_op_name_len            k:op_info k:op_info_len I:index                   -> (int, ret)
prof.get_step_timestamp         k:step_info i:tag k:stream                        -> ret
prof.destroy_step_info          k:step_info                                       -> None
prof.create_step_info           *                                                 -> handle
prof.create_stamp               *                                                 -> handle
prof.destroy_stamp              k:stamp                                           -> None
prof.push                       k:stamp                                           -> ret
prof.pop                        *                                                 -> ret
prof.range_start                k:stamp                                           -> (int, ret)
prof.range_stop                 I:range_id                                        -> ret
prof.set_stamp_trace_message    k:stamp s:msg I:msg_len                           -> ret
prof.mark                       k:stamp                                           -> ret
prof.mark_ex                    s:msg k:stream                                    -> ret
prof.set_config                 i:config_type s:config                            -> ret
"""
