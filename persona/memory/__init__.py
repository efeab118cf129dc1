"""Memory of the owner's writing: loaders, chunking, embeddings, the Chroma store and the style card."""
