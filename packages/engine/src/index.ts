export const engineName = "spectral" as const
