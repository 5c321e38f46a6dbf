/**
 * The demo webhook of the local stack (and the benchmark's realistic webhook): an Airtable-style
 * "create records" call on call.created, with filters, a date, a loop and a secret. Dev tooling.
 */
export const DEMO_ACCOUNT = 'acc_demo';
export const DEMO_WEBHOOK_ID = 'airtable-calls';
export const DEMO_SECRETS = { AIRTABLE_TOKEN: 'pat_local_demo_token' };

export const DEMO_BODY = `{
  "records": [
    {
      "fields": {
        "Call ID": "{{ data.call.id }}",
        "Started": "{{ data.call.startedAt | date: '%Y-%m-%d %H:%M' }}",
        "Duration (min)": {{ data.call.durationSeconds | divided_by: 60.0 | round: 1 }},
        "Channel": "{{ data.call.channel | capitalize }}",
        "Queue": "{{ data.queue.name }}",
        "Agent": "{{ data.agent.name }}",
        "Agent email": "{{ data.agent.email | downcase }}",
        "Customer": "{{ data.customer.name | strip }}",
        "Customer email": "{{ data.customer.email | default: 'unknown' }}",
        "Phone": "{{ data.customer.phone | remove: ' ' }}",
        "Tags": [{% for tag in data.tags %}"{{ tag | upcase }}"{% unless forloop.last %}, {% endunless %}{% endfor %}],
        "Tag count": {{ data.tags | size }},
        "Source": "{{ data.metadata.source | default: 'web' }}",
        "Recording": {{ data.recording.url | json }},
        "Event": "{{ event.type }} {{ event.id }}",
        "Received": "{{ event.occurredAt | date: '%d/%m/%Y' }}",
        "Summary": "{{ data.customer.name | split: ' ' | first }} talked to {{ data.agent.name | truncate: 20 }}"
      }
    }
  ],
  "typecast": true
}`;

export function demoWebhook(url: string): Record<string, unknown> {
  return {
    name: 'Airtable: calls table',
    enabled: true,
    events: ['call.created'],
    method: 'POST',
    url,
    headers: { Authorization: 'Bearer {{ secrets.AIRTABLE_TOKEN }}', 'X-Hookshape-Event': '{{ event.id }}' },
    format: 'json',
    body: DEMO_BODY,
  };
}
