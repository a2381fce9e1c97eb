"""cocotb testbench modules of the RTL twin (run through sim.cosim.run_cocotb, never imported by pytest)."""
