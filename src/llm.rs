//! Native LLM client (being written)
