{
  "targets": [
    {
      "target_name": "safebind",
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/binding.cc",
            "native/binding/args.cc",
            "native/binding/address_watches.cc",
            "native/binding/netlink_exports.cc",
            "native/binding/netns_exports.cc",
            "native/netns_read.cc",
            "native/binding/churn_exports.cc",
            "native/binding/churn_runs.cc",
            "native/socket_ops.cc",
            "native/netlink.cc",
            "native/addresses.cc",
            "native/sock_diag.cc",
            "native/route.cc",
            "native/neighbours.cc",
            "native/packet.cc",
            "native/binding/packet_exports.cc",
            "native/address_watch.cc",
            "native/bench/churn_run.cc",
            "native/bench/churn_listener.cc"
          ]
        }, {
          "sources": ["native/unsupported.cc"]
        }]
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: a throw into an environment being torn down
      # (worker.terminate()) is dropped instead of aborting the process; see native/binding.cc.
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_cc": ["-Wall", "-Wextra", "-O2", "-std=c++17", "-fno-exceptions"]
    }
  ]
}
