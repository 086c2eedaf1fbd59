import { describe, expect, it } from "vitest"
import { META_PROMPT_MARKER, metaPrompt } from "@spectral/engine"
import { lessonOf, overtimeTruth, readWorker, simulatedAnswer } from "../../src/simulated/index.ts"

const calculatorSystem = (extra: string) =>
  `You answer payroll questions.${extra}\n\nAnswer with one JSON object with exactly these fields: exemptionStatus, overtimePay, rationale.`

const belowLevel = "I work for a national chain. I handle HR policy for the company. I get a salary of $600 a week. Last week I worked 48 hours. Am I owed overtime under federal law, and how much for last week?"

describe("simulated model: overtime skill", () => {
  it("reads the worker and knows the rules as the judge does", () => {
    const { facts } = readWorker(belowLevel)
    expect(facts).toMatchObject({ payBasis: "salary", weeklySalary: 600, hoursWorked: 48, primaryDuty: "administrative", coveredByFlsa: true })
    expect(overtimeTruth(facts)).toMatchObject({ status: "non_exempt", overtimePay: 180 })
  })

  it("guidance naming the salary level fixes the blind spot, on the same draws", () => {
    let wrongBare = 0
    let wrongGuided = 0
    for (let epoch = 0; epoch < 60; epoch++) {
      const bare = JSON.parse(simulatedAnswer(calculatorSystem(""), `Input:\n${belowLevel}`, { temperature: 0.2, epoch }, 1))
      const guided = JSON.parse(simulatedAnswer(calculatorSystem(" A salary below $684 a week is never exempt."), `Input:\n${belowLevel}`, { temperature: 0.2, epoch }, 1))
      if (bare.exemptionStatus !== "non_exempt") wrongBare++
      if (guided.exemptionStatus !== "non_exempt") wrongGuided++
    }
    expect(wrongBare).toBeGreaterThan(30)
    expect(wrongGuided).toBeLessThan(10)
  })
})

describe("simulated model: meta-prompt skill", () => {
  it("rewrites an instruction with the general lessons of the judge's explanations", () => {
    const prompt = metaPrompt({ role: "calculator", instruction: "Answer payroll questions.", guidance: [] }, [
      "Answered exempt, but a salary of $600 a week is below the $684 weekly salary level the white-collar exemptions require, so the worker is non-exempt and owed time and a half; the regular rate is the salary divided by 40.",
      "Answered non-exempt where exempt applies from the stated facts."
    ])
    expect(prompt.system.startsWith(META_PROMPT_MARKER)).toBe(true)
    const rewrites = [0, 1, 2].map((epoch) => simulatedAnswer(prompt.system, prompt.user, { temperature: 0.3, epoch }, 1))
    expect(rewrites.every((r) => r.startsWith("Answer payroll questions."))).toBe(true)
    expect(rewrites.some((r) => r.includes("$684"))).toBe(true)
  })

  it("a case-specific explanation without a rule gives no lesson", () => {
    expect(lessonOf("Answered single where head of household applies from the stated facts.")).toBeUndefined()
    expect(lessonOf("Standard deduction of $15750 leaves out the additional amount for age 65 or older or blindness: 1 × $2000 should be added (expected $17750).")).toContain("65 or older")
  })
})
