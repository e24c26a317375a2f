"""The Simpler/Bridge clock, in a module of its own so that registering env ids needs no physics."""

SIM_FREQ = 500  # Hz
CONTROL_FREQ = 5  # Hz
MAX_EPISODE_STEPS = 80  # control steps (16 s)
