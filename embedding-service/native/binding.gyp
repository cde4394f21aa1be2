{
  "targets": [
    {
      "target_name": "picard_blas",
      "sources": ["blas.c"],
      "libraries": ["-ldl"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
