"""Engine: ingest files into the store, compile detections and run them over a time window."""
