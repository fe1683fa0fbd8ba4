raise RuntimeError("\x1b[2J\x1b[31mPWNED\r::error::forged")
