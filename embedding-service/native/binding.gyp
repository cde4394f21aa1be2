{
  "targets": [
    {
      "target_name": "picard_blas",
      "sources": ["blas.c", "packed-product.c"],
      "libraries": ["-ldl"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
