"""Pure, Home Assistant-free core of Music Mood: features, model runtime, colour, serial framing."""
