"""The paired track: HQ faces -> synthetic LQ -> methods -> full-reference metrics beside no-reference ones."""
