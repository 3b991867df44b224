mod protocol_vectors;
