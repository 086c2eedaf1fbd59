/**
 * The base ECharts option every dashboard chart starts from (palette, type, tooltip, animation off
 * so a screenshot shows the final frame), typed against ECharts' own option type and handed to the
 * page as JSON.
 */
import type { EChartsOption } from "echarts/types/dist/echarts"

export const chartTheme: EChartsOption = {
  color: ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2"],
  textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', sans-serif", color: "#1f2937" },
  tooltip: { trigger: "item", confine: true },
  animation: false
}
