// Tiny helpers to build HTML and SVG elements without innerHTML (the CSP
// forbids inline styles; attributes and element.style from script are fine:
// `style: {fill: 'var(--t1)'}` sets properties through element.style).

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name === 'style' && typeof value === 'object') {
      for (const [property, v] of Object.entries(value)) if (v != null) node.style.setProperty(property, String(v));
      continue;
    }
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: h('div', {class: 'x'}, 'text', child). */
export function h(tag, attrs, ...children) {
  return apply(document.createElement(tag), attrs, children);
}

/** An SVG element: s('rect', {x: 1, y: 2}). */
export function s(tag, attrs, ...children) {
  return apply(document.createElementNS(SVG_NS, tag), attrs, children);
}
