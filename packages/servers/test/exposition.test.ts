import assert from 'node:assert/strict'
import { test } from 'node:test'
import { seriesValue } from '../src/index.ts'

const exposition = [
  '# HELP http_requests_total Requests, by route.',
  '# TYPE http_requests_total counter',
  'http_requests_total{route="/a,b",service="svc"} 3',
  'http_requests_total{service="svc",route="/a"} 7 1395066363000',
  'http_requests_total{ service = "svc" , route="/quoted \\"x\\" and \\\\ and \\n" , } 11',
  'odd_label_value{path="{x=\\"1\\"}"}\t13',
  'up +Inf',
  'down -Inf',
  'nothing NaN',
  'plain 1.5e3',
].join('\n')

test('a label value may hold commas: the series is found by the whole value, not a part of it', () => {
  assert.equal(seriesValue(exposition, 'http_requests_total', { route: '/a,b' }), 3)
  assert.equal(seriesValue(exposition, 'http_requests_total', { route: '/a' }), 7)
  assert.equal(seriesValue(exposition, 'http_requests_total', { route: 'b' }), undefined)
})

test('labels in any order, blanks around them, a trailing comma, and the escapes \\" \\\\ \\n', () => {
  assert.equal(seriesValue(exposition, 'http_requests_total', { service: 'svc', route: '/a' }), 7)
  assert.equal(
    seriesValue(exposition, 'http_requests_total', { route: '/quoted "x" and \\ and \n', service: 'svc' }),
    11,
  )
  assert.equal(seriesValue(exposition, 'odd_label_value', { path: '{x="1"}' }), 13)
})

test('values as the format writes them: a timestamp after the value, ±Inf, NaN, exponents', () => {
  assert.equal(seriesValue(exposition, 'http_requests_total'), 3)
  assert.equal(seriesValue(exposition, 'up'), Number.POSITIVE_INFINITY)
  assert.equal(seriesValue(exposition, 'down'), Number.NEGATIVE_INFINITY)
  assert.ok(Number.isNaN(seriesValue(exposition, 'nothing')))
  assert.equal(seriesValue(exposition, 'plain'), 1500)
  assert.equal(seriesValue(exposition, 'absent'), undefined)
})
